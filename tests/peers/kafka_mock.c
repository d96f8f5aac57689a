// SPDX-License-Identifier: Apache-2.0
//
// kafka_mock: a Kafka cluster for tests, librdkafka's in-process mock cluster served on
// 127.0.0.1 (no JVM, no ZooKeeper). Prints the bootstrap servers as the first stdout
// line, then reads one command per stdin line and answers "ok" or "error <reason>":
//
//   down <broker-id> / up <broker-id>   take one broker off the network / bring it back
//   down-all / up-all                   the same for every broker (an outage)
//   create <topic> <partitions>         create a topic
//   quit                                exit 0 (EOF on stdin too)
//
// Build: gcc -std=c11 -Wall -Wextra -Werror -O2 -o kafka_mock kafka_mock.c -lrdkafka
#define _POSIX_C_SOURCE 200809L

#include <signal.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE* out) {
    fprintf(out,
            "usage: kafka_mock [--brokers N] [--partitions N] [--topic NAME]...\n"
            "  --brokers N      brokers in the cluster (default 3, ids 1..N)\n"
            "  --partitions N   partitions of each --topic (default 4)\n"
            "  --topic NAME     topic to create (repeatable; default sipbeat)\n"
            "Prints the bootstrap servers, then reads commands on stdin:\n"
            "  down <id> | up <id> | down-all | up-all | create <topic> <partitions> | quit\n");
}

static int parsePositive(const char* text, int* out) {
    char* end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v <= 0 || v > 100000) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int setAll(rd_kafka_mock_cluster_t* cluster, int brokers, int up) {
    for (int id = 1; id <= brokers; ++id) {
        rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(cluster, id)
                                     : rd_kafka_mock_broker_set_down(cluster, id);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("error broker %d: %s\n", id, rd_kafka_err2str(err));
            return 0;
        }
    }
    return 1;
}

// Answers one command line; returns 0 on quit.
static int handle(rd_kafka_mock_cluster_t* cluster, int brokers, char* line) {
    char* save = NULL;
    const char* cmd = strtok_r(line, " \t\r\n", &save);
    const char* arg1 = strtok_r(NULL, " \t\r\n", &save);
    const char* arg2 = strtok_r(NULL, " \t\r\n", &save);
    if (cmd == NULL) {
        return 1;  // blank line: nothing to answer
    }
    if (strcmp(cmd, "quit") == 0) {
        printf("ok\n");
        return 0;
    }
    if (strcmp(cmd, "down-all") == 0 || strcmp(cmd, "up-all") == 0) {
        if (setAll(cluster, brokers, cmd[0] == 'u')) {
            printf("ok\n");
        }
        return 1;
    }
    if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
        int id = 0;
        if (arg1 == NULL || !parsePositive(arg1, &id) || id > brokers) {
            printf("error usage: %s <broker-id 1..%d>\n", cmd, brokers);
            return 1;
        }
        rd_kafka_resp_err_t err = cmd[0] == 'u' ? rd_kafka_mock_broker_set_up(cluster, id)
                                                : rd_kafka_mock_broker_set_down(cluster, id);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("error %s\n", rd_kafka_err2str(err));
        } else {
            printf("ok\n");
        }
        return 1;
    }
    if (strcmp(cmd, "create") == 0) {
        int partitions = 0;
        if (arg1 == NULL || arg2 == NULL || !parsePositive(arg2, &partitions)) {
            printf("error usage: create <topic> <partitions>\n");
            return 1;
        }
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, arg1, partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("error %s\n", rd_kafka_err2str(err));
        } else {
            printf("ok\n");
        }
        return 1;
    }
    printf("error unknown command '%s'\n", cmd);
    return 1;
}

int main(int argc, char** argv) {
    int brokers = 3;
    int partitions = 4;
    const char* topics[64];
    int topic_count = 0;
    for (int i = 1; i < argc; ++i) {
        const char* opt = argv[i];
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        const char* val = argv[++i];
        if (strcmp(opt, "--brokers") == 0 && parsePositive(val, &brokers)) {
            continue;
        }
        if (strcmp(opt, "--partitions") == 0 && parsePositive(val, &partitions)) {
            continue;
        }
        if (strcmp(opt, "--topic") == 0 && topic_count < 64) {
            topics[topic_count++] = val;
            continue;
        }
        usage(stderr);
        return 2;
    }
    if (topic_count == 0) {
        topics[topic_count++] = "sipbeat";
    }
    // A test that dies without closing our stdin must not make us die on a write.
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the cluster; it never connects anywhere itself, so its
    // "no bootstrap.servers" notice is noise.
    if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (cluster == NULL) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int t = 0; t < topic_count; ++t) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, topics[t], partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: topic %s: %s\n", topics[t], rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(cluster);
            rd_kafka_destroy(rk);
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    fprintf(stderr, "kafka_mock: %d brokers, %d partitions per topic, at %s\n", brokers, partitions,
            rd_kafka_mock_cluster_bootstraps(cluster));

    char line[1024];
    while (fgets(line, sizeof line, stdin) != NULL) {
        int more = handle(cluster, brokers, line);
        fflush(stdout);
        if (!more) {
            break;
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}
