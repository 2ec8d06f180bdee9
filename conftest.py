"""Collection rules for the whole repository (``make test`` runs tests and doctests in one go)."""


def pytest_ignore_collect(collection_path, config):
    # `make test` collects the packages' doctests in the same run (--doctest-modules), which
    # would import every .py file under a tests/ folder as a doctest source; the helper
    # scripts there (MPI ranks, checkpoint children, launchers, the CUDA emulator) run or
    # stand in for other packages when imported, so only test files and conftests are
    # collected from tests/ folders.
    if (config.option.doctestmodules and collection_path.suffix == ".py"
            and "tests" in collection_path.parts
            and not collection_path.name.startswith(("test_", "conftest"))):
        return True
    return None
