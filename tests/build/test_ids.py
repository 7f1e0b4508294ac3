"""New IDs: unique in the vault, never in the future, ascending in file order."""

from hypothesis import given
from hypothesis import strategies as st

from notecards.ids import new_ids, now_ms


def test_free_clock_gives_now_and_just_below():
    assert new_ids(3, set(), now=1000) == [998, 999, 1000]


def test_used_ids_are_skipped():
    assert new_ids(2, {1000, 998}, now=1000) == [997, 999]


def test_default_clock_is_now():
    before = now_ms()
    (fresh,) = new_ids(1, set())
    assert before <= fresh <= now_ms()


@given(
    count=st.integers(0, 50),
    used=st.sets(st.integers(900, 1100), max_size=100),
)
def test_ids_unique_unused_not_future(count, used):
    ids = new_ids(count, used, now=1000)
    assert len(ids) == len(set(ids)) == count
    assert not set(ids) & used
    assert all(0 < i <= 1000 for i in ids)
    assert ids == sorted(ids)
