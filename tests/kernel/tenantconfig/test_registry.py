import pytest

from finfactory.tenantconfig import ConfigDefinition, config_definitions, config_register, config_unregister


@pytest.fixture
def cleanup():
    registered = []
    yield registered
    for key in registered:
        config_unregister(key)


def test_a_registered_key_is_listed_with_its_definition(cleanup):
    cleanup.append("testreg.limit")

    definition = config_register("testreg.limit", kind="int", default=5, minimum=1, maximum=9, description=" Limit ")

    assert definition == ConfigDefinition(
        key="testreg.limit", kind="int", default=5, description="Limit", minimum=1, maximum=9, choices=None
    )
    assert [d for d in config_definitions() if d.key.startswith("testreg.")] == [definition]


def test_registering_the_same_definition_again_is_harmless_but_another_definition_raises(cleanup):
    cleanup.append("testreg.flag")
    first = config_register("testreg.flag", kind="bool", default=False, description="A flag")

    again = config_register("testreg.flag", kind="bool", default=False, description="A flag")
    with pytest.raises(ValueError, match="already registered with another definition"):
        config_register("testreg.flag", kind="bool", default=True, description="A flag")

    assert again is first
    assert [d.default for d in config_definitions() if d.key == "testreg.flag"] == [False]


@pytest.mark.parametrize(
    ("key", "kwargs", "message"),
    [
        ("Products.Flag", {"kind": "bool", "default": True}, "dotted lower_snake"),
        ("flag", {"kind": "bool", "default": True}, "dotted lower_snake"),
        ("products.", {"kind": "bool", "default": True}, "dotted lower_snake"),
        ("products." + "x" * 100, {"kind": "bool", "default": True}, "dotted lower_snake"),
        ("testreg.k", {"kind": "float", "default": 1.0}, "kind must be one of bool, int, str, json"),
        ("testreg.k", {"kind": "bool", "default": 1}, "Must be true or false"),
        ("testreg.k", {"kind": "int", "default": True}, "Must be an integer"),
        ("testreg.k", {"kind": "int", "default": 0, "minimum": 1}, "Must be at least 1"),
        ("testreg.k", {"kind": "int", "default": 5, "minimum": 9, "maximum": 1}, "above maximum"),
        ("testreg.k", {"kind": "str", "default": "x", "maximum": 3}, "int keys only"),
        ("testreg.k", {"kind": "str", "default": "x", "choices": ["a", "b"]}, "Must be one of"),
        ("testreg.k", {"kind": "str", "default": "a", "choices": ["a", 1]}, "choice 1 is not a valid str"),
        ("testreg.k", {"kind": "json", "default": {"a": 1}, "choices": [{"a": 1}]}, "int and str keys only"),
        ("testreg.k", {"kind": "json", "default": None}, "null is not a value"),
        ("testreg.k", {"kind": "json", "default": {1: "a"}}, "Must be JSON"),
    ],
)
def test_malformed_definitions_are_refused_and_nothing_is_registered(key, kwargs, message):
    with pytest.raises(ValueError, match=message):
        config_register(key, description="Something", **kwargs)

    assert [d for d in config_definitions() if d.key == key] == []


def test_a_description_is_required():
    with pytest.raises(ValueError, match="a description is required"):
        config_register("testreg.k", kind="bool", default=True, description="  ")

    assert [d for d in config_definitions() if d.key == "testreg.k"] == []
