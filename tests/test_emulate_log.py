"""The emulated apps' log: every record written is read back field by field, by name; a
line cut short by a killed process is skipped, not misread."""

from __future__ import annotations

from models.emulate.log import EndLine, FrameLine, SwitchLine, format_line, read_lines


def test_records_round_trip_by_name() -> None:
    written = [SwitchLine(0.125, 0.5, "", "d1"), FrameLine(1.0, 1.25, 1.5, "d1", 1, 0.75),
               FrameLine(2.0, 2.0, 2.5, "d1", -1, 1.0), SwitchLine(3.0, 0.25, "d1", "d2"),
               EndLine(0.0, 4.0, 12, 2)]
    text = "".join(format_line(r) for r in written)
    assert text.splitlines()[1] == "F,1.000000,1.250000,1.500000,d1,1,0.750000"
    assert list(read_lines(text)) == written


def test_a_line_cut_short_or_unknown_is_skipped() -> None:
    text = format_line(FrameLine(1.0, 1.0, 1.5, "d1", 0, 0.5)) + "X,1,2\nE,0.000000,4.0"
    assert list(read_lines(text)) == [FrameLine(1.0, 1.0, 1.5, "d1", 0, 0.5)]
