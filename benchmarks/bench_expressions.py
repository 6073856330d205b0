"""How long the sandbox takes, once compiled, for the expressions and scripts workflows run.

    .venv/bin/python benchmarks/bench_expressions.py

Prints the median microseconds per evaluation of a condition, a mapping, a JUEL condition, a
FEEL condition and a 10-line script, next to plain ``eval``/``exec`` of the same code without a
sandbox (the floor). The engine's throughput targets depend on these staying in the
microseconds.
"""

from __future__ import annotations

import builtins as builtins_module
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from apg_workflow.expressions.sandbox import Sandbox

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
VARIABLES: dict[str, Any] = {
    "amount": 1500,
    "approved": True,
    "status": "ok",
    "customer": {"name": "Ada Lovelace", "tier": "gold", "email": "ada@example.com"},
    "items": [{"sku": f"SKU-{i}", "price": Decimal("9.99"), "quantity": i % 3 + 1} for i in range(10)],
}
CONDITION = "amount > 1000 and approved and status == 'ok'"
MAPPING = "f\"{customer['name']} <{customer['email']}>\""
SCRIPT = """
total = sum(item["price"] * item["quantity"] for item in items)
count = len(items)
if total > 100:
    discount = (total * Decimal("0.05")).quantize(Decimal("0.01"))
else:
    discount = Decimal("0")
skus = [item["sku"] for item in items if item["quantity"] > 1]
due = now() + timedelta(days=30)
summary = f"{count} items, total {total - discount}, due {due:%Y-%m-%d}"
approved = total - discount < 1000
"""
CASES: list[tuple[str, str | None, str]] = [
    ("condition", None, CONDITION),
    ("mapping", None, MAPPING),
    ("juel condition", None, "${amount > 1000 && approved && status == 'ok'}"),
    ("feel condition", None, '= amount > 1000 and approved and status = "ok"'),
]


def median_microseconds(run: Callable[[], object], *, rounds: int = 25, number: int = 2000) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            run()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def main() -> None:
    sandbox = Sandbox()
    print(f"{'case':<16} {'sandbox µs':>11} {'plain eval µs':>14}")
    for name, language, text in CASES:
        sandbox.compile(text, language)
        guarded = median_microseconds(
            lambda t=text, lang=language: sandbox.evaluate(t, lang, VARIABLES, now=NOW)
        )
        plain = (
            median_microseconds(lambda code=compile(text, "<plain>", "eval"): eval(code, dict(VARIABLES)))
            if language is None and not text.startswith(("$", "="))
            else float("nan")
        )
        print(f"{name:<16} {guarded:>11.2f} {plain:>14.2f}")
    sandbox.compile(SCRIPT, None, "script")
    guarded = median_microseconds(lambda: sandbox.execute(SCRIPT, VARIABLES, now=NOW), number=500)
    builtins = {**vars(builtins_module), "Decimal": Decimal, "now": lambda: NOW, "timedelta": timedelta}
    code = compile(SCRIPT, "<plain>", "exec")
    plain = median_microseconds(lambda: exec(code, {**VARIABLES, "__builtins__": builtins}), number=500)
    print(f"{'10-line script':<16} {guarded:>11.2f} {plain:>14.2f}")


if __name__ == "__main__":
    main()
