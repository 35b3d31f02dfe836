from pathlib import Path

import pytest

ANNEX_DIR = Path(__file__).resolve().parents[3] / "shared" / "unodc" / "wdr2025_annex"
if not ANNEX_DIR.exists():  # the worktree may sit elsewhere; the shared folder is fixed
    ANNEX_DIR = Path("/work/shared/unodc/wdr2025_annex")

SEIZURES_CSV = ANNEX_DIR / "7.1_Drug_seizures_2019-2023.csv"
SEIZURES_XLSX = ANNEX_DIR / "7.1_Drug_seizures_2019-2023.xlsx"
PREVALENCE_XLSX = ANNEX_DIR / "1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx"
YOUTH_XLSX = ANNEX_DIR / "1.4_Prevalence_of_drug_use_in_the_youth_population_national_data_including_NPS.xlsx"
TRENDS_XLSX = ANNEX_DIR / "2.1_Expert_perception_of_trend_changes_in_use_of_drugs_all_drugs.xlsx"
COCA_XLSX = ANNEX_DIR / "6.1.1_Global_illicit_coca_bush_cultivation.xlsx"
POPPY_XLSX = ANNEX_DIR / "6.2.1_Illicit_cultivation_of_opium_poppy.xlsx"


@pytest.fixture(scope="session")
def annex_dir() -> Path:
    if not ANNEX_DIR.exists():
        pytest.skip("the WDR 2025 annex files are not available")
    return ANNEX_DIR
