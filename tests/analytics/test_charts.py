"""The data table beside every chart: the same numbers as the drawing, escaped."""

from analytics.charts import chart


def test_the_table_holds_every_value_formatted_and_names_what_is_not_drawn():
    spec = chart("c", "Clicks", ["2026-03-01", "2026-03-02"], {"Clicks": [1200, 3], "Impressions": None})

    assert str(spec["body"]) == (
        '<tr><th scope="row">2026-03-01</th><td>1,200</td></tr><tr><th scope="row">2026-03-02</th><td>3</td></tr>'
    )
    assert spec["columns"] == ["Clicks"] and spec["missing"] == ["Impressions"]
    assert spec["config"]["datasets"] == [{"label": "Clicks", "data": [1200, 3]}]


def test_labels_and_values_are_escaped():
    spec = chart("c", "Topics", ["<script>x</script>"], {"Posts": ["a & b"]}, label_heading="Topic")

    assert "<script>" not in str(spec["body"])
    assert "&lt;script&gt;x&lt;/script&gt;" in str(spec["body"]) and "<td>a &amp; b</td>" in str(spec["body"])
