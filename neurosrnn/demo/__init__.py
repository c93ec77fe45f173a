"""The `make demo` job: ``python -m neurosrnn.demo``.

Each part is a module with ``run(out_dir, quick=False) -> dict`` that writes its
figures into `out_dir` and returns a JSON-serialisable summary; `__main__` runs the
parts in order and writes ``summary.json`` atomically.
"""
