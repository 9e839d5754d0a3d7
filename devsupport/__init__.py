"""What the tests and the bench both need to drive local services; not part of the product.

`tests/` and `bench/` never import each other: what both use lives here, at the top of the
checkout (both run from it), and stays out of the wheel (pyproject.toml packages only
`controlroom` and `workers`).
"""
