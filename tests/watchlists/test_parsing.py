from jobsite.watchlists.parsing import extract_job_ids

A = "cefb58a0-cd71-11ec-8e29-81c20d280994"
B = "0b0e6b7e-3f5c-4d47-9a51-2f7d1c1b9e10"


def test_it_finds_ids_in_a_plain_list():
    assert extract_job_ids(f"{A}\n{B}\n").job_ids == [A, B]


def test_it_lower_cases_and_drops_repeats_keeping_first_order():
    parsed = extract_job_ids(f"{B.upper()}, {A}\n{B}")
    assert parsed.job_ids == [B, A]
    assert parsed.repeats == 1


def test_it_reads_ids_out_of_a_pasted_json_answer():
    text = f'{{"{A}": {{"id": "{A}", "state": "completed", "output": null}}}}'
    parsed = extract_job_ids(text)
    assert parsed.job_ids == [A]
    assert parsed.repeats == 1  # the key and the id field


def test_it_reads_ids_out_of_log_lines_and_reports_lines_without_one():
    text = f"2026-11-29 INFO job {A} started\nnothing here\n\n2026-11-29 WARN job {B} retry\n"
    parsed = extract_job_ids(text)
    assert parsed.job_ids == [A, B]
    assert parsed.ignored_lines == ["nothing here"]
    assert "1 line without an ID ignored (“nothing here”)" in parsed.summary()


def test_it_does_not_take_a_uuid_out_of_a_longer_hex_run():
    assert extract_job_ids("a" + A + "f").job_ids == []


def test_it_finds_nothing_in_text_without_uuids():
    parsed = extract_job_ids("job 42 and job 43")
    assert parsed.job_ids == []
    assert parsed.summary().startswith("Found 0 job IDs")


def test_its_summary_counts_found_repeats_and_ignored():
    parsed = extract_job_ids(f"{A}\n{A}\nfoo\nbar\nbaz\nqux\n")
    assert parsed.summary() == (
        "Found 1 job ID; 1 repeat dropped; 4 lines without an ID ignored (“foo”, “bar”, “baz”…)."
    )
