// Polls a running job's progress so long imports show where they are; stops once the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) return;
  var finished = { succeeded: true, failed: true };
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        document.getElementById("job-status").textContent = job.status;
        document.getElementById("job-stage").textContent = job.stage || "";
        document.getElementById("job-progress").value = job.percent || 0;
        document.getElementById("job-count").textContent = job.done + (job.total ? " of " + job.total : "");
        if (finished[job.status]) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (!finished[box.dataset.status]) window.setTimeout(poll, 500);
})();
