import RESP

extension UpstashClient {
    /// Sends one planned request: paced, with the auth and encoding headers, retried on transport
    /// failures (timeouts included) and 5xx as `options.retry` allows, each retry told to
    /// `options.onRetry`. Returns a 2xx response, or a 4xx that carries a command error for the
    /// caller to decode; throws for auth failures, plan limits and exhausted retries.
    func exchange(_ planned: PlannedRequest, resp2: Bool) async throws(UpstashError) -> HTTPResponse {
        var headers = [authorization]
        headers.append(planned.isJSON ? "Content-Type: application/json" : "Content-Type: application/octet-stream")
        // The server refuses resp2 combined with base64, and resp2 needs no string encoding.
        headers.append(resp2 ? "Upstash-Response-Format: resp2" : "Upstash-Encoding: base64")
        let retry = options.retry
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            if let pacer {
                do {
                    try await pacer.acquire(planned.billed)
                } catch {
                    throw failure(.cancelled, "cancelled while pacing to \(pacer.perSecond) commands/s")
                }
            }
            var sent = headers
            if let sync = syncToken.withLockedValue({ $0 }) { sent.append("Upstash-Sync-Token: \(sync)") }
            let request = HTTPRequest(
                url: endpoint.url(planned.route), headers: sent, body: planned.body, timeout: options.requestTimeout,
                connectTimeout: options.connectTimeout)
            let error: UpstashError
            requestCounter.withLockedValue { $0 += 1 }
            switch await engine.perform(request) {
            case .success(let response):
                // echoed back as a header: anything with control characters would inject headers
                if let sync = response.headers["upstash-sync-token"], !sync.isEmpty,
                    sync.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
                {
                    syncToken.withLockedValue { $0 = sync }
                }
                guard let refusal = classify(response) else { return response }
                error = refusal
            case .failure(let transport):
                switch transport.reason {
                case .cancelled, .closed: throw failure(.cancelled, transport.message)
                case .refused, .resolve: error = failure(.unreachable, transport.message)
                default: error = failure(.transport, transport.message)
                }
            }
            let elapsed = ContinuousClock.now - started
            guard error.isRetryable, let pause = retry.pause(after: attempt, elapsed: elapsed) else {
                if attempt > 1 {
                    let over = UpstashClientOptions.RetryNotice.format(elapsed)
                    throw UpstashError(
                        error.kind, host: error.host, detail: error.detail + " (after \(attempt) attempts in \(over))", status: error.status
                    )
                }
                throw error
            }
            let remaining = retry.budget.map { $0 - elapsed - pause }
            options.onRetry?(UpstashClientOptions.RetryNotice(error: error, attempt: attempt, pause: pause, remaining: remaining))
            logger.debug(
                "retrying request",
                metadata: ["host": "\(endpoint.hostAndPort)", "attempt": "\(attempt)", "error": "\(error)", "pause": "\(pause)"])
            do {
                try await Task.sleep(for: pause)
            } catch {
                throw failure(.cancelled, "cancelled while waiting to retry")
            }
        }
    }

    /// Why a response is a failure of the request as a whole, or nil when it is a reply to decode.
    private func classify(_ response: HTTPResponse) -> UpstashError? {
        if response.isSuccess { return nil }
        let text = ResultDecoding.errorText(response.body).map { String(decoding: $0, as: UTF8.self) }
        if response.status == 401 || text?.hasPrefix("WRONGPASS") == true || text?.hasPrefix("NOAUTH") == true {
            return failure(.auth, text ?? "HTTP 401 unauthorized: check the token", status: response.status)
        }
        if let text, UpstashError.isLimitText(text) {
            return failure(.limit, text, status: response.status)
        }
        // 501 and 505 say the server does not do such requests at all: no retry changes that
        if response.status == 501 || response.status == 505 {
            return failure(.protocolError, text ?? "the server does not implement this request", status: response.status)
        }
        if response.status >= 500 {
            return failure(.server, text ?? "the server failed the request", status: response.status)
        }
        return nil
    }
}
