import pytest

from finfactory.errors import InvalidInput
from finfactory.money import MAX_AMOUNT, currency_exponent, format_minor, require_amount, require_currency


@pytest.mark.parametrize(("code", "exponent"), [("PHP", 2), ("JPY", 0), ("BHD", 3), ("USD", 2)])
def test_iso_4217_exponents(code, exponent):
    assert currency_exponent(code) == exponent
    assert require_currency(code) == code


@pytest.mark.parametrize("code", ["php", "PH", "XAU", "XXX", "ZZZ", None, 608, "PHP "])
def test_unknown_or_unitless_currencies_are_refused_naming_the_field(code):
    with pytest.raises(InvalidInput) as caught:
        require_currency(code, field="postings[1].currency")
    assert [(e.field, e.code) for e in caught.value.errors] == [("postings[1].currency", "invalid_currency")]


@pytest.mark.parametrize(
    ("value", "code"),
    [(1.0, "invalid_amount"), ("10", "invalid_amount"), (True, "invalid_amount"), (0, "amount_out_of_range"),
     (-1, "amount_out_of_range"), (MAX_AMOUNT + 1, "amount_out_of_range")],
)  # fmt: skip
def test_amounts_are_positive_integers_in_minor_units(value, code):
    with pytest.raises(InvalidInput) as caught:
        require_amount(value)
    assert caught.value.errors[0].code == code
    assert require_amount(MAX_AMOUNT) == MAX_AMOUNT and require_amount(0, allow_zero=True) == 0


def test_format_minor_uses_the_currency_exponent():
    assert [format_minor(123456, "PHP"), format_minor(-5, "PHP"), format_minor(500, "JPY"), format_minor(1, "BHD")] == [
        "1234.56", "-0.05", "500", "0.001",
    ]  # fmt: skip
