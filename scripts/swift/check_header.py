"""Write a C program that includes the generated FieldworkFFI.h and checks,
against the static library, every checksum and the contract version the
generated Swift expects. Linking proves the header's symbols exist in
libfieldwork.a; running proves the Swift bindings match the library.

    python3 check_header.py FieldworkKit.swift FieldworkFFI.h > check.c
"""

import re
import sys

swift = open(sys.argv[1], encoding="utf-8").read()
header = sys.argv[2]
checksums = re.findall(r"if \((uniffi_\w+_checksum_\w+)\(\) != (\d+)\)", swift)
contract = re.search(r"let bindings_contract_version = (\d+)", swift)
contract_fn = re.search(r"let scaffolding_contract_version = (\w+)\(\)", swift)
if not checksums or not contract or not contract_fn:
    sys.exit("check_header.py: the Swift bindings have no checksums or contract version")

print(f'#include "{header}"')
print("#include <stdio.h>\n")
print("int main(void) {\n    int bad = 0;")
print(f"    if ({contract_fn.group(1)}() != {contract.group(1)}) {{")
print(f'        printf("contract version %u, Swift expects {contract.group(1)}\\n", (unsigned){contract_fn.group(1)}());')
print("        bad++;\n    }")
for fn, value in checksums:
    print(f"    if ({fn}() != {value}) {{ printf(\"{fn}: %u, Swift expects {value}\\n\", (unsigned){fn}()); bad++; }}")
print(f'    printf("%s C header: contract version and {len(checksums)} checksums checked against the static library\\n", bad ? "FAIL" : "ok  ");')
print("    return bad ? 1 : 0;\n}")
