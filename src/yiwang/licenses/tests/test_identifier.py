"""Rules of 证照标识 (GB/T 36904): structure, ISO 7064 MOD 37,36 check character, messages."""

import random
import string

import pytest

from yiwang.licenses import identifier

REAL = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
TYPE_CODE = "11100000000013338W011"
ISSUER = "11430000006122244L"
SERIAL = "20230000403"
BODY = TYPE_CODE + ISSUER + SERIAL + "001"
ALPHABET = string.digits + string.ascii_uppercase


def test_real_example_parses():
    parsed = identifier.parse(REAL)
    assert parsed == identifier.Parsed(TYPE_CODE, ISSUER, SERIAL, 1, "U")
    assert str(parsed) == REAL
    assert identifier.check_char(BODY) == "U"


def test_build_reproduces_real_example():
    assert identifier.build(TYPE_CODE, ISSUER, SERIAL, 1) == REAL


def test_lower_case_and_spaces_are_normalized():
    assert identifier.parse(f"  {REAL.lower()}\n") == identifier.parse(REAL)


def test_base_groups_versions():
    v2 = identifier.build(TYPE_CODE, ISSUER, SERIAL, 2)
    assert v2.endswith(".002." + identifier.check_char(BODY[:-3] + "002"))
    assert identifier.base(v2) == identifier.base(REAL)
    assert identifier.base(REAL) == f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.{SERIAL}"
    other = identifier.build(TYPE_CODE, ISSUER, "20230000404", 1)
    assert identifier.base(other) != identifier.base(REAL)


@pytest.mark.parametrize("version", [1, 12, 999])
def test_build_parse_round_trip(version):
    text = identifier.build(TYPE_CODE, ISSUER, "A1", version)
    parsed = identifier.parse(text)
    assert (parsed.serial, parsed.version) == ("A1", version)
    assert text.split(".")[-2] == f"{version:03d}"


def test_every_single_substitution_is_detected():
    """Every position of the body, every other character: the check character changes,
    and parse of the altered identifier fails."""
    parsed = identifier.parse(REAL)
    for position in range(len(BODY)):
        for char in ALPHABET:
            if char == BODY[position]:
                continue
            altered = BODY[:position] + char + BODY[position + 1 :]
            assert identifier.check_char(altered) != "U", (position, char)
            text = (
                f"{identifier.PREFIX}{altered[:21]}.{altered[21:39]}."
                f"{altered[39:50]}.{altered[50:]}.U"
            )
            with pytest.raises(ValueError):
                identifier.parse(text)
    # and a wrong check character itself
    for char in ALPHABET.replace(parsed.check, ""):
        with pytest.raises(ValueError, match=f"校验位应为 U,实际为 {char}"):
            identifier.parse(REAL[:-1] + char)


def test_adjacent_transpositions_are_detected():
    full = BODY + "U"
    for position in range(len(full) - 1):
        if full[position] == full[position + 1]:
            continue
        swapped = full[:position] + full[position + 1] + full[position] + full[position + 2 :]
        assert identifier.check_char(swapped[:-1]) != swapped[-1], position


def test_most_transpositions_are_detected_on_random_bodies():
    rng = random.Random(36904)
    trials = detected = 0
    for _ in range(2000):
        body = "".join(rng.choice(ALPHABET) for _ in range(50))
        position = rng.randrange(49)
        if body[position] == body[position + 1]:
            continue
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        trials += 1
        detected += identifier.check_char(swapped) != identifier.check_char(body)
    assert detected / trials > 0.97


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "应以“1.2.156.3005.2.”开头"),
        ("1.2.156.3005.1." + REAL[15:], "应以“1.2.156.3005.2.”开头"),
        (REAL.rsplit(".", 1)[0], "实际为 4 段"),
        (REAL + ".X", "实际为 6 段"),
        (REAL.replace(TYPE_CODE, TYPE_CODE[:-1]), "证照类型代码应为 21 位"),
        (REAL.replace(TYPE_CODE, TYPE_CODE[:-1] + "A"), "证照类型代码应为 21 位"),
        (REAL.replace(ISSUER, ISSUER + "1"), "颁发机构代码应为 18 位"),
        (REAL.replace(SERIAL, ""), "流水号应为 1 到 40 位"),
        (REAL.replace(SERIAL, "9" * 41), "流水号应为 1 到 40 位"),
        (REAL.replace(SERIAL, "2023-01"), "流水号应为 1 到 40 位"),
        (REAL.replace(".001.", ".01."), "版本号应为 3 位数字"),
        (REAL.replace(".001.", ".000."), "版本号应为 1 到 999"),
        (REAL[:-1] + "UU", "校验位应为 1 位"),
        (REAL[:-1] + "*", "校验位应为 1 位"),
        (REAL[:-1] + "V", "校验位应为 U,实际为 V"),
    ],
)
def test_bad_identifiers_name_the_problem(text, message):
    with pytest.raises(ValueError) as caught:
        identifier.parse(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1110000000001333W011", ISSUER, SERIAL, 1), "证照类型代码"),
        ((TYPE_CODE, "1143000000612224L", SERIAL, 1), "颁发机构代码"),
        ((TYPE_CODE, ISSUER, "a1", 1), "流水号"),
        ((TYPE_CODE, ISSUER, SERIAL, 0), "版本号"),
        ((TYPE_CODE, ISSUER, SERIAL, 1000), "版本号"),
        ((TYPE_CODE, ISSUER, SERIAL, True), "版本号"),
    ],
)
def test_build_refuses_bad_parts(args, message):
    with pytest.raises(ValueError, match=message):
        identifier.build(*args)


def test_check_char_refuses_other_characters():
    with pytest.raises(ValueError, match="不能包含“-”"):
        identifier.check_char("12-3")
