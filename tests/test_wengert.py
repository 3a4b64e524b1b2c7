"""The Wengert-list view (`tape.wengert`): which records it lists and what each row says."""

from __future__ import annotations

import re

import pytest
from helpers import big_example

import tape
from tape import wengert


def _by_node(rows):
    return [r[2] for r in rows]


def _big():
    return big_example(tape)


def test_records_in_position_order_with_node_names():
    t = _big()
    recs = wengert.records_for(t["k"])
    positions = [r.pos for r in recs]
    assert positions == sorted(positions) and len(set(positions)) == 5
    rows = wengert.rows(recs, names=t)
    assert _by_node(rows) == ["MulBackward0", "MulBackward0", "DivBackward0", "AddBackward0", "MulBackward0"]
    assert [r[1] for r in rows] == ["mul", "mul", "div", "add", "mul"]
    # the printed table keeps that order too
    text = wengert.table(t["k"], names=t)
    printed = [int(m) for m in re.findall(r"^\s*(\d+)\s", text, flags=re.M)]
    assert printed == positions


def test_input_edges_name_producers_leaves_and_no_grad():
    t = _big()
    rows = {r[4].split()[0]: r for r in wengert.rows(wengert.records_for(t["k"]), names=t)}
    pos = {name: str(t[name]._rec.pos) for name in "egijk"}
    assert rows["e"][3] == "leaf(c), -"  # d needs no grad
    assert rows["g"][3] == f"#{pos['e']}, -"
    assert rows["i"][3] == f"#{pos['g']}, leaf(h)"
    assert rows["j"][3] == f"#{pos['i']}, leaf(h)"
    assert rows["k"][3] == f"#{pos['j']}, #{pos['i']}"


def test_unbind_edges_show_output_indices():
    a = tape.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * c * d
    names = dict(a=a, b=b, c=c, d=d, e=e)
    rows = wengert.rows(wengert.records_for(e), names=names)
    assert _by_node(rows) == ["UnbindBackward0", "MulBackward0", "MulBackward0"]
    u, inner = rows[0][0], rows[1][0]
    assert rows[0][3] == "leaf(a)"
    assert rows[0][4] == "b float32[], c float32[], d float32[]"
    assert rows[1][3] == f"#{u}.0, #{u}.1"
    assert rows[2][3] == f"#{inner}, #{u}.2"
    assert rows[0][6] == "0"  # unbind's dim


def test_saved_values_with_versions_and_stale_after_inplace():
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(3.0, requires_grad=True)
    c = a * b
    d = tape.tensor(4.0, requires_grad=True)
    e = c * d
    names = dict(a=a, b=b, c=c, d=d, e=e)
    before = wengert.rows(wengert.records_for(e), names=names)
    assert before[1][5] == "self=c@v0, other=d@v0"
    assert "stale" not in wengert.table(e, names=names)
    c += 1
    after = wengert.rows(wengert.records_for(e, c), names=names)
    assert _by_node(after) == ["MulBackward0", "MulBackward0", "AddBackward0"]
    assert after[1][5] == "self=c@v0 (now v1: stale), other=d@v0"
    assert after[0][5] == "self=a@v0, other=b@v0"  # a and b were not touched
    # the in-place add is named as such, and c's first record knows c moved on
    assert after[2][1] == "add_"
    assert after[0][4] == f"c float32[] (now #{after[2][0]})"
    assert "(now v1: stale)" in wengert.table(e, names=names)


def test_only_needed_values_are_saved():
    a = tape.tensor(2.0, requires_grad=True)
    b = tape.tensor(3.0)
    c = a * b
    (row,) = wengert.rows(wengert.records_for(c), names={a: "a", b: "b"})
    assert row[5] == "self=-, other=b@v0"  # only a's gradient is needed, and it needs b
    assert row[3] == "leaf(a), -"
    s = a + b
    (row,) = wengert.rows(wengert.records_for(s))
    assert row[5] == "" and row[6] == "1"  # add saves nothing; alpha=1


def test_freed_after_backward_kept_with_retain_graph():
    t = _big()
    t["k"].backward(retain_graph=True)
    kept = wengert.rows(wengert.records_for(t["k"]), names=t)
    assert all("<freed>" not in r[5] for r in kept)
    t["k"].backward()
    text = wengert.table(t["k"], names=t)
    rows = wengert.rows(wengert.records_for(t["k"]), names=t)
    for r in rows:
        assert r[5] == ("" if r[2] == "AddBackward0" else "<freed>")
    assert text.count("<freed>") == 4


def test_records_for_lists_only_the_given_graph():
    x = tape.tensor(1.0, requires_grad=True)
    y = (x * 2).exp()
    other = tape.tensor(5.0, requires_grad=True)
    z = other.sin()
    ry = wengert.records_for(y)
    assert _by_node(wengert.rows(ry)) == ["MulBackward0", "ExpBackward0"]
    assert all(r is not z._rec for r in ry)
    assert "SinBackward0" not in wengert.table(y)
    assert {r.pos for r in wengert.records_for(y, z)} == {r.pos for r in ry} | {z._rec.pos}
    # the global tape holds both
    whole = repr(tape.TAPE)
    assert whole.startswith("the global tape") and "SinBackward0" in whole and "ExpBackward0" in whole
    # a leaf has no records
    assert wengert.records_for(x) == []
    assert "nothing recorded" in wengert.table(x)


def test_dead_outputs_and_unnamed_values():
    x = tape.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()  # the product is dropped: its record lives on, its output is gone
    rows = wengert.rows(wengert.records_for(y))
    assert rows[0][4] == "dead"
    assert rows[0][3] == "leaf([1., 2.]), -"  # 3 is a number: no gradient
    assert rows[1][4] == "float32[]"
    big = tape.ones(10, 10, requires_grad=True)
    (row,) = wengert.rows(wengert.records_for(big.exp()))
    assert row[3] == "leaf(float32[10, 10])"
    assert row[5] == f"result=#{row[0]}@v0"  # exp saves its own result


def test_names_by_tensor_by_id_or_name_to_tensor():
    a = tape.tensor(2.0, requires_grad=True)
    c = a * a
    for names in ({a: "a", c: "c"}, {id(a): "a", id(c): "c"}, {"a": a, "c": c}):
        (row,) = wengert.rows(wengert.records_for(c), names=names)
        assert row[3] == "leaf(a), leaf(a)" and row[4] == "c float32[]", names
    assert wengert.table(c, names={"a": a, "c": c}).startswith("records leading to c (1 record)")


def test_columns_are_aligned():
    t = _big()
    t["k"].backward()
    lines = wengert.table(t["k"], names=t, title="big").splitlines()
    assert lines[0] == "big (5 records)"
    header, rule, *body = lines[1:]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    assert [m.start() for m in re.finditer(r"-+", rule)] == starts
    assert len(body) == 5
    node_col, input_col = starts[2], starts[3]
    for line in body:
        assert line[node_col:].split()[0].endswith("Backward0")
        assert line[input_col - 2:input_col] == "  " and line[input_col] in "#l"
    assert all(line == line.rstrip() for line in lines)


def test_records_for_rejects_other_things():
    with pytest.raises(TypeError):
        wengert.records_for(3.0)
    a = tape.tensor(2.0, requires_grad=True)
    c = a * 2
    assert wengert.records_for(c.grad_fn) == wengert.records_for(c)


# ---- outputs found when asked (NOTE [outputs found when asked] in tape/recording.py) -------


@pytest.fixture
def lazy_outputs():
    """A process that has not looked at any record's outputs yet."""
    from tape import recording

    before = recording.KEEP_OUTPUTS[0]
    recording.KEEP_OUTPUTS[0] = False
    yield recording
    recording.KEEP_OUTPUTS[0] = before


def test_a_record_finds_its_output_when_asked_then_keeps_references(lazy_outputs):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3.0
    d = c.sin()
    e = d.sum()
    c_rec, d_rec = c._rec, d._rec
    assert c_rec.outs is None and d_rec.outs is None  # no reference made while recording
    del d  # d's record lives on in e's graph; its output is gone
    text = wengert.table(e, names={"a": a, "c": c, "e": e})
    assert c_rec.out_refs()[0]() is c and d_rec.out_refs()[0]() is None
    assert re.search(r"mul\s.*\bc float32\[2\]", text) and "dead" in text
    assert lazy_outputs.KEEP_OUTPUTS[0]  # from now on records keep them at once
    f = e * 2.0
    assert f._rec.outs is not None and f._rec.out_refs()[0]() is f


def test_a_tensor_leaving_its_record_pins_the_reference_first(lazy_outputs):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3.0
    mul = c._rec
    c.add_(1.0)  # c is now the output of add_; mul's output was c until then
    assert mul.out_refs()[0]() is c and c._rec.out_refs()[0]() is c
    assert [r[1] for r in wengert.rows(wengert.records_for(c))] == ["mul", "add_"]
    d = a * 2.0
    sin = d.sin()._rec  # (an unrelated record, still unresolved)
    d_rec = d._rec
    d.detach_()
    assert d_rec.out_refs()[0]() is d and sin.outs is None


def test_retain_grad_and_backward_need_no_scan(lazy_outputs, monkeypatch):
    def no_scan():
        raise AssertionError("backward scanned the heap")

    monkeypatch.setattr(lazy_outputs, "find_outputs", no_scan)
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3.0
    c.retain_grad()
    (c * c).sum().backward()
    assert c.grad.tolist() == [6.0, 12.0] and a.grad.tolist() == [18.0, 36.0]


def test_retain_grad_repins_an_output_a_scan_missed(lazy_outputs):
    a = tape.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3.0
    c._rec.outs = lazy_outputs._gone  # as if another thread's scan ran mid-way through the op
    c.retain_grad()
    (c * c).sum().backward()
    assert c.grad.tolist() == [6.0, 12.0]


def test_table_and_draw_of_a_stale_view_show_its_history_made_again():
    b = tape.ones(2, 3, requires_grad=True)
    a = b * 1
    v = a[0]
    a.mul_(3)  # v's history is made again (AsStridedBackward0) when it is next read
    text = tape.wengert.table(v)
    assert "AsStridedBackward0" in text and "SelectBackward0" not in text
    assert "mul_" in text
    assert v.grad_fn.name() == "AsStridedBackward0"
