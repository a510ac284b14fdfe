import Testing
import UpstashProfile

@Suite("what Upstash bills")
struct BillingTests {
    @Test("a script is its call plus every command it ran; AUTH, HELLO, SELECT, COMMAND, CONFIG, INFO, PING, RESET, QUIT are free")
    func rule() {
        #expect(UpstashBilling.billed("EVALSHA", scriptCalls: 2) == 3)
        #expect(UpstashBilling.billed("SET") == 1)
        for free in ["AUTH", "HELLO", "SELECT", "COMMAND", "CONFIG", "INFO", "PING", "RESET", "QUIT"] {
            #expect(UpstashBilling.billed(free) == 0)
        }
    }

    @Test("INFO commandstats is summed by that rule, Redis 7's subcommand lines included")
    func commandStats() {
        let info = """
            # Commandstats\r
            cmdstat_set:calls=907,usec=1247,usec_per_call=1.37,rejected_calls=0,failed_calls=0\r
            cmdstat_evalsha:calls=14,usec=870478,usec_per_call=62177.00,rejected_calls=0,failed_calls=0\r
            cmdstat_script|load:calls=2,usec=36,usec_per_call=18.00,rejected_calls=0,failed_calls=0\r
            cmdstat_config|resetstat:calls=1,usec=154,usec_per_call=154.00,rejected_calls=0,failed_calls=0\r
            cmdstat_info:calls=3,usec=1,usec_per_call=0.33,rejected_calls=0,failed_calls=0\r
            cmdstat_ping:calls=9,usec=1,usec_per_call=0.11,rejected_calls=0,failed_calls=0\r
            cmdstat_command|docs:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r

            """
        #expect(UpstashBilling.billed(commandStats: info) == 907 + 14 + 2)
    }
}
