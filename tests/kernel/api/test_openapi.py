import pytest
from django.test import Client


@pytest.fixture
def schema(db):
    response = Client().get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import json

    return json.loads(response.content)


def test_every_operation_documents_auth_and_problem_errors(schema):
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert operations
    for path, method, op in operations:
        assert op.get("security"), (path, method)
        for status in ("400", "401", "403", "429", "500"):
            content = op["responses"][status]["content"]
            assert "application/problem+json" in content, (path, method, status)


def test_idempotent_operations_document_the_header(schema):
    create = schema["paths"]["/v1/api-keys"]["post"]

    header = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]

    assert header and header[0]["in"] == "header" and not header[0].get("required", False)
    assert "409" in create["responses"] and "422" in create["responses"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_the_interactive_docs_render_from_local_assets(db):
    response = Client().get("/v1/docs")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content
