"""Your own data in the app, through ``AppTest``: a CSV upload trains like a built-in dataset, stays out of
the URL, and hostile files get a clear message while the page keeps working."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import wil
from wil.spec.datasets import USER_PREFIX
from wil_app.lessons import DEMO
from wil_app.policy import POLICY

APP = str(pathlib.Path(__file__).resolve().parents[2] / "wil_app" / "page.py")
# a small run, so that every rerun trains in milliseconds
SMALL = wil.Config(dataset="moons", n_samples=100, noise=0.2, depth=2, width=8, epochs=5,
                   compare=("zeros", "he_normal"))
INJECTION = "=cmd|' /C calc'!A0"
MARKUP = ("<", ">", "](", "![", "://", "`", "$", "\n")


pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("forget_user_datasets")]  # conftest: uploads leave no trace


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in SMALL.to_query_params().items():
        at.query_params[key] = value
    return checked(at.run())


def checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="upload_file").set_value((name, content, "text/csv"))
    return checked(at.run())


def unescaped(text: str) -> str:
    """Markdown text as it shows: a backslash-escaped character renders as itself."""
    return re.sub(r"\\([\x21-\x7e])", r"\1", text)


def errors(at: AppTest) -> list[str]:
    return [unescaped(e.value) for e in at.error]


def assert_page_works(at: AppTest) -> None:
    """No exception, the charts of the current run drawn, the dataset picker still usable."""
    checked(at)
    assert at.get("vega_lite_chart"), "the page has no charts"
    assert at.sidebar.selectbox(key="dataset").value in wil.DATASETS


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def two_features(n=120, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return pd.DataFrame({"left": X[:, 0], "right": X[:, 1], "side": np.where(X[:, 0] > 0, "east", "west")})


def test_a_csv_trains_with_its_decision_boundary_and_stays_out_of_the_url():
    at = upload(open_app(), "my data.csv", csv_bytes(two_features()))
    assert at.sidebar.selectbox(key="upload_target").value == "side"  # the last column by default
    assert at.sidebar.radio(key="upload_task").value == "classification"  # text: classes
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    name = at.sidebar.selectbox(key="dataset").value
    assert name.startswith(USER_PREFIX)
    assert wil.DATASETS[name].label == "Your data: my data.csv"
    assert any(m.value.startswith("**Your data: my data.csv** (120 samples)") for m in at.markdown)  # the summary
    # the link carries the default dataset and the flag, never the data or its hash
    assert at.query_params["dataset"] == DEMO.dataset
    assert at.query_params["data"] == "uploaded"
    assert not any(USER_PREFIX in str(value) for value in at.query_params.values())
    assert any("carries the configuration, not your data" in info.value for info in at.info)
    # 2-D data: the decision boundary tab draws its chart
    at.session_state["tab"] = "Decision boundary"
    at = checked(at.run())
    titles = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any("Decision boundary" in spec for spec in titles)
    # the Share tab shows the same query string as the URL
    at.session_state["tab"] = "Share & export"
    at = checked(at.run())
    query = at.get("code")[0].value
    assert "dataset=moons" in query and "data=uploaded" in query and USER_PREFIX not in query


def test_the_task_is_detected_and_can_be_changed():
    data = two_features()
    data["score"] = (np.arange(len(data)) % 4).astype(int)  # four whole numbers: classes by default
    at = upload(open_app(), "scores.csv", csv_bytes(data[["left", "right", "score"]]))
    assert at.sidebar.radio(key="upload_task").value == "classification"
    at.sidebar.radio(key="upload_task").set_value("regression")
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    assert wil.DATASETS[at.sidebar.selectbox(key="dataset").value].task == "regression"
    # another target: the task is detected again (a continuous column: regression)
    at.sidebar.selectbox(key="upload_target").set_value("left")
    at = checked(at.run())
    assert at.sidebar.radio(key="upload_task").value == "regression"


def test_a_link_from_a_page_with_uploaded_data_opens_the_default_dataset_and_says_why():
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {**SMALL.to_query_params(), "data": "uploaded"}.items():
        at.query_params[key] = value
    at = checked(at.run())
    assert at.sidebar.selectbox(key="dataset").value == DEMO.dataset
    assert any("Uploaded data cannot travel in a link" in info.value for info in at.info)
    assert "data" not in at.query_params
    assert not [w.value for w in at.warning if "link had a problem" in w.value]


def test_a_link_naming_an_uploaded_dataset_is_refused_even_in_the_same_process():
    name = wil.from_frame(two_features(), "side")
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {**SMALL.to_query_params(), "dataset": name}.items():
        at.query_params[key] = value
    at = checked(at.run())
    assert at.sidebar.selectbox(key="dataset").value == DEMO.dataset
    shown = [unescaped(w.value) for w in at.warning] + [c.value for c in at.code]  # link problems: quoted as code
    assert any("uploaded data cannot travel in a link" in text for text in shown), shown
    # another session's upload is never offered in the picker
    assert name not in at.sidebar.selectbox(key="dataset").options


# ---------------------------------------------------------------- hostile files

def test_a_binary_file():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20
    at = upload(open_app(), "photo.csv", png)
    assert any("not a text file" in e for e in errors(at))
    assert_page_works(at)


def test_a_100_mb_file_is_refused_unread():
    content = b"a,b\n" + b"1,2\n" * (25 * 1024 * 1024)  # 100 MB
    at = upload(open_app(), "huge.csv", content)
    assert any("100.0 MB" in e and f"at most {POLICY.max_upload_mb} MB" in e for e in errors(at))
    assert_page_works(at)


def test_csv_injection_cells_are_shown_as_plain_text():
    data = two_features()
    data["note"] = INJECTION
    at = upload(open_app(), "inject.csv", csv_bytes(data[["left", "note", "side"]]))
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    message = [e for e in at.error if "not numeric" in e.value]
    assert message, [e.value for e in at.error]
    # shown literally (each Markdown character escaped), never as markup or a formula that runs
    assert INJECTION in unescaped(message[0].value)
    assert not any(mark in re.sub(r"\\[\x21-\x7e]", "", message[0].value) for mark in MARKUP)
    for html in at.get("html"):
        assert "cmd" not in html.proto.body
    assert at.sidebar.selectbox(key="dataset").value == "moons"  # nothing registered, nothing changed
    assert_page_works(at)


def test_a_text_column_can_be_left_out():
    data = two_features()
    data.insert(0, "name", [f"point {i}" for i in range(len(data))])
    at = upload(open_app(), "named.csv", csv_bytes(data))
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    assert any("'name' is not numeric (e.g. 'point 0'); encode it as numbers or leave it out" in e
               for e in errors(at)), errors(at)
    picker = at.sidebar.multiselect(key="upload_ignore")
    assert picker.options == ["name", "left", "right"]  # every column but the target
    picker.set_value(["name"])
    at = checked(at.run())
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    name = at.sidebar.selectbox(key="dataset").value
    assert wil.DATASETS[name].feature_names == ("left", "right")
    assert not at.error
    assert_page_works(at)


def test_injection_in_a_header_and_a_class_name_trains_and_stays_text():
    data = two_features()
    data.columns = [INJECTION, "<img src=x onerror=alert(1)>", "side"]
    data["side"] = np.where(data["side"] == "east", INJECTION, "west")
    at = upload(open_app(), "<b>x</b>.csv", csv_bytes(data))
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    name = at.sidebar.selectbox(key="dataset").value
    assert name.startswith(USER_PREFIX) and wil.DATASETS[name].label == "Your data: b_x_b_.csv"
    for html in at.get("html"):
        assert "onerror" not in html.proto.body and "cmd" not in html.proto.body
    for markdown in at.markdown:
        assert "<img" not in markdown.value and "<b>" not in markdown.value
    assert_page_works(at)


def test_unicode_and_empty_headers():
    data = two_features()
    csv = "température °C,,種類\n" + "\n".join(f"{a},{b},{c}" for a, b, c in data.itertuples(index=False))
    at = upload(open_app(), "unicode.csv", csv.encode("utf-8"))
    target = at.sidebar.selectbox(key="upload_target")
    assert target.options == ["température °C", "Unnamed: 1", "種類"] and target.value == "種類"
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    name = at.sidebar.selectbox(key="dataset").value
    assert wil.DATASETS[name].feature_names == ("température °C", "Unnamed: 1")
    assert_page_works(at)


def test_ten_thousand_columns():
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    at = upload(open_app(), "wide.csv", (header + "\n" + row + "\n").encode())
    assert any("10,000 columns" in e and f"at most {POLICY.max_upload_columns}" in e for e in errors(at))
    assert_page_works(at)


def test_a_file_of_one_row():
    at = upload(open_app(), "one.csv", b"a,b,y\n1,2,0\n")
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    assert any("1 row, at least 20 needed" in e for e in errors(at))
    assert_page_works(at)


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    (b"just one column\n1\n2\n", "a single column"),
    (b"a,b\n" + b"1,2\n" * (POLICY.max_upload_rows + 1), f"at most {POLICY.max_upload_rows:,}"),
    (b'a,b\n1,"2\n', "could not be read as CSV"),
])
def test_other_unreadable_files(content, message):
    at = upload(open_app(), "bad.csv", content)
    assert any(message in e for e in errors(at)), errors(at)
    assert_page_works(at)


@pytest.mark.parametrize("rows, message", [
    ([f"{i},{i % 7},x" for i in range(40)] + ["1,2,"], "1 missing values"),
    ([f"{i},{(i * 7) % 5},{'ab'[i % 2]}" for i in range(40)] + ["3,4,a"] * 0 + ["5,5,b"], None),
    ([f"{i},3,{'ab'[i % 2]}" for i in range(40)], "constant feature column 'b'"),
    ([f"{i},{i % 3},same" for i in range(40)], "one class only"),
    ([f"{i},{i % 3},c{i}" for i in range(40)], "40 classes"),
])
def test_data_that_cannot_train_says_why(rows, message):
    at = upload(open_app(), "data.csv", ("a,b,y\n" + "\n".join(rows) + "\n").encode())
    at.sidebar.button(key="upload_use").click()
    at = checked(at.run())
    if message is None:
        assert at.sidebar.selectbox(key="dataset").value.startswith(USER_PREFIX)
    else:
        assert any(message in e for e in errors(at)), errors(at)
    assert_page_works(at)


def test_the_policy_never_reads_an_uploaded_dataset_from_a_url():
    name = wil.from_frame(two_features(), "side")
    config, problems = POLICY.parse_url({"dataset": name, "depth": "3"})
    assert config.dataset == DEMO.dataset and config.depth == 3  # the rest of the link applies
    assert problems == ["uploaded data cannot travel in a link; using the default dataset"]
    assert name not in " ".join(problems)


def test_public_config_and_query_params_replace_uploaded_data():
    from wil_app.upload import public_config, public_query_params

    name = wil.from_frame(two_features(n=2000), "side")
    config = wil.Config(dataset=name, depth=3, batch_size=1024)  # more than moons' 300 training samples
    public = public_config(config)
    assert public.dataset == DEMO.dataset and public.batch_size is None and public.depth == 3
    params = public_query_params(config)
    assert params["data"] == "uploaded" and params["dataset"] == DEMO.dataset
    assert public_query_params(SMALL) == SMALL.to_query_params()  # built-in data: the link as before
