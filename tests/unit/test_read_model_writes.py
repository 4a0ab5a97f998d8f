"""Read-model writes keep their order, and batch consecutive identical statements (what makes consumers fast)."""

from shared.store import ReadModelWrites


class RecordingCursor:
    def __init__(self):
        self.calls = []

    def execute(self, sql, params):
        self.calls.append(("execute", sql, [params]))

    def executemany(self, sql, params):
        self.calls.append(("executemany", sql, list(params)))


def test_consecutive_statements_with_the_same_sql_run_as_one_executemany_in_order():
    writes = ReadModelWrites()
    for row in [(1,), (2,), (3,)]:
        writes.add("INSERT a", row)
    writes.add("UPDATE b", (9,))
    writes.add("INSERT a", (4,))
    cursor = RecordingCursor()
    writes.apply(cursor)
    assert cursor.calls == [
        ("executemany", "INSERT a", [(1,), (2,), (3,)]),
        ("execute", "UPDATE b", [(9,)]),
        ("execute", "INSERT a", [(4,)]),
    ]
    assert len(writes) == 5


def test_no_writes_touch_nothing():
    cursor = RecordingCursor()
    ReadModelWrites().apply(cursor)
    assert cursor.calls == []
