"""Policy: the policy file, the control registry, classification and evaluation.

    model.py        the policy file's shape (pydantic, extra keys forbidden)
    loader.py       load_policy: structure, schema and meaning passes; the policy's digest
    errors.py       PolicyError: FILE:LINE: key: problem, exit 2
    globs.py        CODEOWNERS-like path globs
    registry.py     controls by id, each with its parameter model; controls/ the built-ins
    schema.py       the JSON Schema, generated from the model and the registry
    templates.py    starting policies; explain.py what an environment requires, in words
    rules.py        custom rules: CEL expressions over what the controls computed

Import from the modules: this package re-exports nothing, so importing one part (the
registry, say, from a control) never drags in the rest.
"""
