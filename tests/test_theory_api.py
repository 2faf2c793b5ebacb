"""The calling convention of the theory API (``theory/__init__.py``): sizes positional, then keywords.

The noise is the standard deviation ``sigma`` everywhere, always keyword-only,
so a variance passed where a standard deviation is expected cannot slip in by
position; several results are named tuples, not bare tuples.
"""

import importlib
import inspect
import pkgutil

import pytest

import theory

#: The positional arguments a public theory function may take: sizes, and mp_integrate's integrand.
SIZES = ("n", "d", "s", "gamma", "func")
#: The problem's parameters, keyword-only, in the documented order.
PROBLEM = ("signal_norm2", "sigma")


def public_functions():
    """``(qualified name, function)`` for every public function defined in a public module of :mod:`theory`."""
    found = {}
    for info in pkgutil.iter_modules(theory.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"theory.{info.name}")
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return sorted(found.items())


#: The numeric functions of ``theory.__all__`` (all but ``check_results``, which takes a results table).
EXPORTED = [(name, getattr(theory, name)) for name in theory.__all__
            if inspect.isfunction(getattr(theory, name)) and name != "check_results"]
NOISY = [(name, f) for name, f in EXPORTED if "sigma" in inspect.signature(f).parameters]


def test_no_public_function_takes_a_noise_variance():
    functions = public_functions()
    assert len(functions) > len(EXPORTED)
    offenders = [name for name, f in functions if {"sigma2", "s2", "noise_var", "variance"}
                 & set(inspect.signature(f).parameters)]
    assert offenders == []


def test_exported_functions_take_only_sizes_by_position():
    for name, function in EXPORTED:
        positional = [p.name for p in inspect.signature(function).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert set(positional) <= set(SIZES), (name, positional)


@pytest.mark.parametrize("name,function", NOISY, ids=[name for name, _ in NOISY])
def test_noise_is_keyword_only_and_positional_noise_is_rejected(name, function):
    parameters = inspect.signature(function).parameters
    keywords = [p for p in parameters.values() if p.kind == p.KEYWORD_ONLY]
    assert parameters["sigma"].kind == parameters["sigma"].KEYWORD_ONLY
    problem = [p.name for p in keywords if p.name in PROBLEM]
    assert problem == [p for p in PROBLEM if p in parameters], (name, problem)  # signal_norm2 before sigma
    positional = sum(p.kind == p.POSITIONAL_OR_KEYWORD for p in parameters.values())
    with pytest.raises(TypeError, match="positional"):
        function(*[1.0] * (positional + 1))


def test_no_exported_function_returns_a_bare_tuple():
    for name, function in EXPORTED:
        annotation = str(inspect.signature(function).return_annotation)
        assert not annotation.startswith("tuple"), (name, annotation)
