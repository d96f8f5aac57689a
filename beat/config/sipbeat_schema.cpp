// SPDX-License-Identifier: Apache-2.0
#include "beat/config/sipbeat_schema.h"

namespace sipbeat::config {

namespace {

Spec port() {
    return integerNoDefault(0, 65535);
}
Spec uintKey(int64_t def) {
    return integer(def, 0);
}

}  // namespace

Spec sipbeatSectionSchema() {
    Spec s = object({
        // sipcmbeat: logging and debugging
        {"verbose", boolean(false)},
        {"log_level", integer(2, -3, 3)},
        {"log_opt", uintKey(1)},
        {"parse_log_level", integer(1, -3, 3)},
        {"parse_log_opt", uintKey(0)},
        {"debug_calltr", uintKey(1)},
        // capture
        {"pcap", string("")},
        {"pcap_loop", uintKey(0)},
        {"replay", boolean(false)},
        {"replay_min_delay", duration("250ms", 0)},
        {"replay_max_delay", duration("0", 0)},
        {"replay_scale", floating(0, 0)},
        {"run_forever", boolean(false)},
        {"iface", string("")},
        // packetbeat's interfaces.snaplen; sipcmbeat captures promiscuously, always.
        {"snaplen", integer(65535, 64, 262144)},
        {"promiscuous", boolean(true)},
        {"pcap_buf_kb", uintKey(0)},
        {"bpf", string("")},
        // SPEC §2: VXLAN's standard port is decapsulated by default (sipcmbeat: none).
        {"vxlan_ports", listOf(port(), "[4789]")},
        {"websocket_ports", listOf(port())},
        {"ipfix_addr", string("")},
        {"ipfix_port", integer(0, 0, 65535)},
        {"ipfix_timeout_min", uintKey(0)},
        {"ipfix_timeout_max", uintKey(0)},
        {"ipfix_ignore_ingress", boolean(false)},
        {"ipfix_ignore_egress", boolean(false)},
        // web interface
        {"http_port", integer(0, 0, 65535)},
        {"http_addr", string("")},
        // TCP reassembly
        {"tcp_gc_int", duration("30s", 0)},
        {"tcp_reorder_timeout", duration("60s", 0)},
        {"tcp_connection_timeout", duration("3600s", 0)},
        {"tcp_msg_buf", integer(4096, 0)},
        {"tcp_msg_buf_max", integer(16384, 0)},
        {"max_blocked_timeout", duration("250ms", 0)},
        // tracking limits and timeouts
        {"calls_max_entries", uintKey(0)},
        {"calls_max_mem", uintKey(0)},
        {"calls_timeouts", openMap(duration("0"))},
        {"regs_max_entries", uintKey(0)},
        {"regs_max_mem", uintKey(0)},
        {"event_buffer_size", integer(10240, 0)},
        {"event_types_blst", listOf(stringNoDefault())},
        // event rate table
        {"evr_max_entries", uintKey(1048576)},
        {"evr_limits", listOf(floating(0, 0), "[20, 240, 3600]")},
        {"evr_intervals", listOf(duration("0", 0), "[1s, 1m, 1h]")},
        {"evr_conseq_report_min", uintKey(100)},
        {"evr_conseq_report_max", uintKey(10000)},
        {"evr_gc_interval", duration("10s", 0)},
        {"evr_gc_old_age", duration("300s", 0)},
        {"evr_gc_max_run_time", duration("1s", 0)},
        {"evr_gc_target", uintKey(10)},
        // registrations
        {"reg_exp_delta", uintKey(30)},
        {"reg_del_delay", integer(0)},
        {"contact_ignore_port", boolean(false)},
        // end of pcap input
        {"end_force_timeout", duration("0", 0)},
        {"end_wait", duration("0", 0)},
        // counters events
        {"stats_interval", duration("5m")},
        {"stats_groups", listOf(stringNoDefault(), "[all]")},
        // anonymisation
        {"encrypt_ip_addresses", boolean(false)},
        {"encrypt_ipcipher", boolean(false)},
        {"encrypt_uris", boolean(false)},
        {"encrypt_cbc_uri", boolean(false)},
        {"encrypt_call_ids", boolean(false)},
        {"encrypt_ua", boolean(false)},
        {"unencrypted_country_iso", boolean(false)},
        {"unencrypted_city_id", boolean(false)},
        {"encryption_passphrase", string("")},
        {"encryption_key", string("")},
        {"encryption_salt", string("")},
        {"cfg_ignore_unknown", listOf(stringNoDefault())},
        // geoip
        {"geo_ip_on", boolean(false)},
        {"geo_ip_db", string("")},
        // per-call pcap dump (sipcmbeat's pcap branch)
        {"pcap_dump_on", boolean(false)},
        {"pcap_dump_onerr", boolean(false)},
        {"pcap_dump_dir", string("")},
        {"pcap_dump_prefix", string("callid_")},
        {"pcap_dump_suffix", string("")},
        {"pcap_dump_extension", string("pcap")},
        {"pcap_dump_subdirs", uintKey(0)},
        {"pcap_dump_flags", uintKey(0)},
        {"pcap_dump_workers", integer(1, 1)},
        {"pcap_dump_queue_len", integer(10, 1)},
        // sipbeat's own (SPEC §2, §4, §5)
        // Each event kind has its own processors, run before the global ones (libbeat's
        // per-input processors).
        {"messages", object({{"enabled", boolean(true)}, {"processors", any()}})},
        {"calls", object({{"enabled", boolean(true)}, {"processors", any()}})},
        {"keep_original", boolean(true)},
        {"parse_authorization", boolean(true)},
        {"parse_body", boolean(true)},
        {"compat", object({{"sipcmbeat_durations", boolean(false)}})},
        // SIP ports: the BPF of live capture is built from them; when set, only traffic
        // to/from them is taken for SIP (empty: every UDP payload and TCP stream).
        {"ports", listOf(port())},
        {"hep", object({{"ports", listOf(port(), "[9060]")},
                        {"password", string("")},
                        {"listen_udp", string("")},
                        {"listen_tcp", string("")}})},
        {"hep_mirror", object({{"hosts", listOf(stringNoDefault())},
                               {"capture_id", integer(0, 0, 4294967295LL)},
                               {"node_name", string("")},
                               {"password", string("")}})},
    });
    s.ignore_unknown_list = "cfg_ignore_unknown";
    return s;
}

}  // namespace sipbeat::config
