-- wrk script: POST the AdmissionReview in $KPROF_REVIEW, pausing $KPROF_DELAY_MS after each
-- response so that connections x (delay + latency) sets the request rate.
local file = assert(io.open(os.getenv("KPROF_REVIEW"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local pause = tonumber(os.getenv("KPROF_DELAY_MS") or "0")
function delay()
  return pause
end
