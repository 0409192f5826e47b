-- wrk script for the HTTP benchmark's POST: JSON body and bearer token come from the environment (bench/http.ts sets them).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
