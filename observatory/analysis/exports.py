"""Tables as downloads: CSV and XLSX, text neutralised against formula injection."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook

from observatory.publication.kernels.csv_safe import CellValue, iter_safe_csv, neutralise_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(
    header: Sequence[str], rows: Sequence[Sequence[CellValue]], filename: str, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    if fmt == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = filename[:31]
        sheet.append([neutralise_text(name) for name in header])
        for row in rows:
            sheet.append([neutralise_text(value) if isinstance(value, str) else value for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    streaming = StreamingHttpResponse(iter_safe_csv(header, rows), content_type="text/csv; charset=utf-8")
    streaming["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return streaming
