#!/usr/bin/env python3
"""Writes a synthetic province for the import benchmark (docs/benchmarks.md): units.csv (a
province, 10 districts, 200 grassroots branches) and members-N.csv (N official members spread
over the branches, in the members template of docs/import.md).

    python3 scripts/import-bench/generate.py 1000000 /tmp/import-bench
"""
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "."
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "units.csv"), "w", encoding="utf-8") as f:
    f.write("Mã đơn vị,Tên đơn vị,Loại,Từ ngày,Đơn vị cấp trên\n")
    f.write("P,Đảng bộ tỉnh,PROVINCE,2004-01-01,\n")
    for d in range(10):
        f.write(f"P-{d},Đảng bộ huyện {d},DISTRICT,2004-01-01,P\n")
        for b in range(20):
            f.write(f"P-{d}-{b:02},Chi bộ cơ sở {d}-{b},GRASSROOTS_BRANCH,2004-01-01,P-{d}\n")
names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường", "Phạm Thị Dung", "Võ Văn Em", "Đỗ Thị Giang"]
with open(os.path.join(out, f"members-{n}.csv"), "w", encoding="utf-8") as f:
    f.write(
        "Số thẻ đảng viên;Họ và tên;Ngày sinh;Giới tính;Dân tộc;Tôn giáo;Trình độ học vấn;"
        "Nghề nghiệp;Ngày quyết định kết nạp;Ngày lễ kết nạp;Ngày công nhận chính thức;Chi bộ;"
        "Sinh hoạt từ ngày;Tình trạng\n"
    )
    for i in range(n):
        d, b = i % 10, (i // 10) % 20
        sex = "Nam" if i % 2 else "Nữ"
        f.write(
            f"{i + 1:08};{names[i % 6]};{i % 28 + 1:02}/{i % 12 + 1:02}/{1950 + i % 50};{sex};Kinh;;"
            f"UPPER_SECONDARY;FARMER;2010-05-10;2010-06-01;2011-06-01;P-{d}-{b:02};2015-01-01;Chính thức\n"
        )
