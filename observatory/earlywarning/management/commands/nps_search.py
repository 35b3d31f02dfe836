"""``observatory nps search --smiles S [--k 10] [--threshold T] [--library FILE.npz] [--json]``:
exact (InChIKey) and Tanimoto top-k search over the NPS registry, and optionally a saved library."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.earlywarning import queries, services
from observatory.earlywarning.chemistry.search import StructureLibrary
from observatory.earlywarning.models import Substance


class Command(BaseCommand):
    help = "Search the NPS registry by structure: exact InChIKey match and Tanimoto top-k."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--smiles", required=True, help="query structure (SMILES or a molfile path's text)"
        )
        parser.add_argument("--k", type=int, default=10, help="number of hits (default 10)")
        parser.add_argument("--threshold", type=float, default=0.0, help="minimum Tanimoto (default 0)")
        parser.add_argument(
            "--library", default="", help="also search a library saved with StructureLibrary.save"
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        try:
            structure = services.standardise(options["smiles"])
        except services.InvalidInput as error:
            raise CommandError(str(error)) from error
        exact = Substance.objects.filter(inchikey=structure.inchikey, status=Substance.Status.ACTIVE).first()
        hits = queries.similar_substances(structure, k=options["k"], threshold=options["threshold"])
        library_hits: list[dict[str, object]] = []
        if options["library"]:
            try:
                library = StructureLibrary.load(options["library"])
            except (OSError, ValueError, KeyError) as error:
                raise CommandError(f"cannot read library {options['library']}: {error}") from error
            library_hits = [
                h.as_dict()
                for h in library.top_k(structure.mol, k=options["k"], threshold=options["threshold"])
            ]
        result = {
            "query": {"inchikey": structure.inchikey, "canonical_smiles": structure.canonical_smiles},
            "exact": {"substance_id": exact.pk, "name": exact.name} if exact else None,
            "registry": [h.as_dict() for h in hits],
            "library": library_hits,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(f"query  {structure.canonical_smiles}  {structure.inchikey}")
        self.stdout.write(f"exact  {exact.name} (#{exact.pk})" if exact else "exact  not in the registry")
        self.stdout.write(f"top {options['k']} in the registry (Tanimoto, Morgan r=2, 2048 bits):")
        for rank, hit in enumerate(hits, 1):
            self.stdout.write(
                f"{rank:>3}. {hit.similarity:.3f}  {hit.name}  [{hit.group_label}]  {hit.inchikey}"
            )
        if not hits:
            self.stdout.write("     (none)")
        if options["library"]:
            self.stdout.write(f"top {options['k']} in {options['library']}:")
            for rank, row in enumerate(library_hits, 1):
                self.stdout.write(f"{rank:>3}. {row['similarity']:.3f}  {row['identifier']}  {row['smiles']}")
