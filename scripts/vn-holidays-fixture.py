#!/usr/bin/env python3
"""Writes services/workflow/tests/data/holidays-vn-2013-2026.csv: Vietnam's public holidays
2013-2026 as the `holidays` Python package computes them, an independent reference for the
working-day calendar (schemas/calendars/vn.toml). See docs/calendar.md.

    pip install holidays==0.109
    python3 scripts/vn-holidays-fixture.py > services/workflow/tests/data/holidays-vn-2013-2026.csv
"""
import holidays

print(f"# Vietnam's public holidays 2013-2026 from the `holidays` Python package {holidays.__version__}")
print("# (country VN, language en_US, observed days included). Regenerate with:")
print("#   pip install holidays==0.109")
print("#   python3 scripts/vn-holidays-fixture.py > services/workflow/tests/data/holidays-vn-2013-2026.csv")
print("# A 'Day off (substituted from MM/DD/YYYY)' row is a weekday given off for that Saturday worked.")
print("date,name")
for year in range(2013, 2027):
    days = holidays.country_holidays("VN", years=year, language="en_US")
    for day, name in sorted(days.items()):
        for part in name.split("; "):
            print(f"{day.isoformat()},{part}")
