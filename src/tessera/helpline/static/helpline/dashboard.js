/* Draws the helpline dashboard's charts from the figures the page embeds as JSON (no inline
   script, so the strict content security policy holds). The tables beside them stay the
   accessible source of the same numbers. */
(function () {
  "use strict";
  var source = document.getElementById("helpline-chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#1d4e89", "#a4000f", "#2e7d32", "#7a5a00", "#6a1b9a", "#00695c", "#ad1457", "#37474f"];
  function colour(i) { return palette[i % palette.length]; }
  function stacked(id, title, series) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.days,
        datasets: series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: colour(i) };
        })
      },
      options: {
        animation: false,
        plugins: { title: { display: true, text: title } },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }
  stacked("chart-channel", data.titles.channel, data.channel);
  stacked("chart-caller-type", data.titles.caller_type, data.caller_type);
  var outcomes = document.getElementById("chart-outcomes");
  if (outcomes) {
    new Chart(outcomes, {
      type: "bar",
      data: {
        labels: data.outcomes.labels,
        datasets: [{ label: data.titles.outcomes, data: data.outcomes.data, backgroundColor: colour(0) }]
      },
      options: { animation: false, indexAxis: "y", plugins: { legend: { display: false },
        title: { display: true, text: data.titles.outcomes } } }
    });
  }
  document.body.setAttribute("data-charts-drawn", "true");
})();
