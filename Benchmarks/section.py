"""Replaces (or appends) one `## ` section of Benchmarks/README.md: section.py README SECTION_FILE HEADING_PREFIX."""
import re
import sys

readme_path, section_path, heading = sys.argv[1:4]
readme, section = open(readme_path).read(), open(section_path).read()
pattern = re.compile(r"## " + re.escape(heading) + r".*?(?=\n## |\Z)", re.S)
if pattern.search(readme):
    readme = pattern.sub(lambda _: section.rstrip() + "\n", readme)
else:
    readme = readme.rstrip() + "\n\n" + section
open(readme_path, "w").write(readme)
