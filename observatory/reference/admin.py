"""Admin pages for reference data; every save and delete goes through the audited service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from observatory.access import policy
from observatory.reference import models, services


class AuditedAdmin(admin.ModelAdmin):
    def _allowed(self, request: HttpRequest) -> bool:
        return policy.allows(request.user, "reference.manage")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        services.save_reference_object(
            request.user, obj, created=not change, before=services.current_state(obj) if change else None
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        services.delete_reference_object(request.user, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows are reference data too: each change goes through the audited service.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.delete_reference_object(request.user, obj)
        for obj in instances:
            before = services.current_state(obj)
            services.save_reference_object(request.user, obj, created=before is None, before=before)
        formset.save_m2m()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            services.delete_reference_object(request.user, obj)


@admin.register(models.Country)
class CountryAdmin(AuditedAdmin):
    list_display = ("iso3", "name", "wdr_region", "wdr_subregion", "m49")
    list_filter = ("wdr_region",)
    search_fields = ("iso3", "name", "name_wdr")


@admin.register(models.Region)
class RegionAdmin(AuditedAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)


@admin.register(models.Population)
class PopulationAdmin(AuditedAdmin):
    list_display = ("country", "year", "total", "aged_15_64", "variant")
    list_filter = ("variant",)
    search_fields = ("country__iso3", "country__name")


class ListingInline(admin.TabularInline):
    model = models.ScheduleListing
    extra = 0


@admin.register(models.ControlledSubstance)
class ControlledSubstanceAdmin(AuditedAdmin):
    list_display = ("name", "cas", "other_names")
    search_fields = ("name", "other_names", "cas")
    inlines = [ListingInline]


@admin.register(models.ScheduleListing)
class ScheduleListingAdmin(AuditedAdmin):
    list_display = ("substance", "convention", "schedule", "effective_from", "effective_to")
    list_filter = ("convention", "schedule")
    search_fields = ("substance__name",)


@admin.register(models.DrugGroup)
class DrugGroupAdmin(AuditedAdmin):
    list_display = ("code", "name")


@admin.register(models.DrugSubgroup)
class DrugSubgroupAdmin(AuditedAdmin):
    list_display = ("code", "name", "group")


@admin.register(models.Drug)
class DrugAdmin(AuditedAdmin):
    list_display = ("code", "name", "subgroup", "measure")
    search_fields = ("code", "name")


@admin.register(models.DrugAlias)
class DrugAliasAdmin(AuditedAdmin):
    list_display = ("label", "drug", "subgroup", "group")
    search_fields = ("label",)


@admin.register(models.Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("code", "name", "dimension")


@admin.register(models.ConversionFactorSet)
class ConversionFactorSetAdmin(AuditedAdmin):
    list_display = ("version", "published_on", "source")


@admin.register(models.ConversionFactor)
class ConversionFactorAdmin(AuditedAdmin):
    list_display = ("factor_set", "drug", "unit", "region", "year", "kg_per_unit")
    list_filter = ("factor_set", "unit")
