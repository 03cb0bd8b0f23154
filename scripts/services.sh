#!/usr/bin/env bash
# Install and run the real services Watchkeeper's tests need, on 127.0.0.1 only.
#
#   Apache Kafka (KRaft, broker+controller in one JVM) from Maven Central jars,
#   and Debian's clickhouse-server 18.16, each started as a plain background
#   process (no systemd here) with its own generated config, data, pid file and
#   log under $WATCHKEEPER_RUN_DIR (default /tmp/watchkeeper-services).
#
# Usage:
#   scripts/services.sh up                 install if needed, start main Kafka + ClickHouse
#   scripts/services.sh down               stop every instance this script started
#   scripts/services.sh status             list instances and whether they run
#   scripts/services.sh install            only install / download (no start)
#   scripts/services.sh kafka-start NAME [PORT CONTROLLER_PORT]
#   scripts/services.sh kafka-stop NAME    SIGTERM, wait, SIGKILL fallback
#   scripts/services.sh kafka-kill NAME    SIGKILL (simulated crash)
#   scripts/services.sh kafka-reset NAME   kill and delete the instance's data
#   scripts/services.sh clickhouse-start NAME [TCP_PORT HTTP_PORT]
#   scripts/services.sh clickhouse-stop NAME | clickhouse-kill NAME | clickhouse-reset NAME
#
# Starting a running instance is a no-op (it still waits until it answers).
# A stopped instance restarts with its data; ports are remembered per instance,
# so `kafka-start NAME` alone restarts it on the ports it was created with.
# Instance "main" defaults to Kafka 9092/9093 and ClickHouse 9000/8123.
#
# Environment:
#   WATCHKEEPER_CACHE       jar cache (default ~/.cache/watchkeeper), survives runs
#   WATCHKEEPER_RUN_DIR     instance dirs (default /tmp/watchkeeper-services)
#   WATCHKEEPER_PYTHON      python with kafka-python for the readiness check (python3)
#   WATCHKEEPER_START_TIMEOUT  seconds to wait for a service to answer (120)
#   WATCHKEEPER_STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL (60)
set -euo pipefail

KAFKA_VERSION=4.1.2
KAFKA_HEAP=${WATCHKEEPER_KAFKA_HEAP:--Xmx512m -Xms512m}
HOST=127.0.0.1

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPERS=$SCRIPT_DIR/services
CACHE_DIR=${WATCHKEEPER_CACHE:-$HOME/.cache/watchkeeper}
RUN_DIR=${WATCHKEEPER_RUN_DIR:-/tmp/watchkeeper-services}
PYTHON=${WATCHKEEPER_PYTHON:-python3}
START_TIMEOUT=${WATCHKEEPER_START_TIMEOUT:-120}
STOP_TIMEOUT=${WATCHKEEPER_STOP_TIMEOUT:-60}
KAFKA_LIBS=$CACHE_DIR/kafka-$KAFKA_VERSION/libs

log() { echo "services: $*" >&2; }

die() {
    echo "services: ERROR: $*" >&2
    exit 1
}

# Print the last lines of the given log files to stderr (for failure messages).
show_tail() {
    local f
    for f in "$@"; do
        if [[ -s $f ]]; then
            echo "----- last 40 lines of $f -----" >&2
            tail -n 40 "$f" >&2
        fi
    done
}

check_name() {
    [[ ${1:-} =~ ^[A-Za-z0-9_-]+$ ]] || die "instance name must match [A-Za-z0-9_-]+, got '${1:-}'"
}

check_port() {
    [[ ${1:-} =~ ^[0-9]+$ ]] && ((1 <= $1 && $1 <= 65535)) || die "bad port '${1:-}'"
}

# True when something listens on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# True when the pid exists, is not a zombie (pid 1 here may not reap orphans),
# and its command line mentions the instance dir (guards against pid reuse).
pid_alive() {
    local pid=$1 dir=$2 state
    [[ -n $pid && -r /proc/$pid/stat ]] || return 1
    state=$(sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z && $state != X ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"
}

read_pid() { cat "$1/pid" 2>/dev/null || true; }

# instance_running DIR: the instance's process is alive.
instance_running() {
    pid_alive "$(read_pid "$1")" "$1"
}

# Serialize operations on one instance (tests may run in parallel).
with_lock() {
    local lockfile=$1
    shift
    mkdir -p "$RUN_DIR"
    exec {lockfd}>"$lockfile"
    flock -w 600 "$lockfd" || die "could not lock $lockfile"
    "$@"
    local rc=$?
    exec {lockfd}>&-
    return $rc
}

# Launch a command in its own session, detached from our stdin/terminal, so it
# outlives this script and the test process; the pid file holds its real pid.
launch() {
    local dir=$1 out=$2
    shift 2
    rm -f "$dir/pid"
    # The child must not inherit our flock fd, or it would hold the instance
    # lock for its whole life.
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0/pid"; exec "$@"' "$dir" "$@" </dev/null >>"$out" 2>&1 {lockfd}>&- &
    local i
    for i in $(seq 1 50); do
        [[ -s $dir/pid ]] && return 0
        sleep 0.1
    done
    die "process for $dir did not write its pid file"
}

# stop_process DIR SIGNAL_MODE(term|kill) LABEL
stop_process() {
    local dir=$1 mode=$2 label=$3 pid i
    pid=$(read_pid "$dir")
    if ! pid_alive "$pid" "$dir"; then
        rm -f "$dir/pid"
        log "$label is not running"
        return 0
    fi
    if [[ $mode == term ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
            pid_alive "$pid" "$dir" || break
            sleep 0.1
        done
        if pid_alive "$pid" "$dir"; then
            log "$label did not stop within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    else
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < 100; i++)); do
        pid_alive "$pid" "$dir" || break
        sleep 0.1
    done
    pid_alive "$pid" "$dir" && die "$label (pid $pid) is still alive after SIGKILL"
    # The main thread of a killed JVM can be a zombie while its other threads
    # (and so its sockets) are still being torn down: wait for the ports too.
    local p
    for p in $(cat "$dir/ports" 2>/dev/null); do
        for ((i = 0; i < 100; i++)); do
            port_open "$p" || break
            sleep 0.1
        done
    done
    rm -f "$dir/pid"
    log "$label stopped ($([[ $mode == term ]] && echo SIGTERM || echo SIGKILL))"
}

# resolve_ports DIR NAME DEFAULT_A DEFAULT_B [A B]: sets PORT_A PORT_B.
# Ports given for an existing instance must match the ones it was created with
# (a KRaft controller's endpoint is written into its storage at format time).
resolve_ports() {
    local dir=$1 name=$2 def_a=$3 def_b=$4 a=${5:-} b=${6:-} rec_a="" rec_b=""
    if [[ -n $a || -n $b ]]; then
        check_port "$a"
        check_port "$b"
    fi
    if [[ -f $dir/ports ]]; then
        read -r rec_a rec_b <"$dir/ports"
        if [[ -n $a && ($a != "$rec_a" || $b != "$rec_b") ]]; then
            die "instance $dir was created with ports $rec_a $rec_b, not $a $b (use the *-reset command to recreate it)"
        fi
        PORT_A=$rec_a
        PORT_B=$rec_b
    elif [[ -n $a ]]; then
        PORT_A=$a
        PORT_B=$b
    elif [[ $name == main ]]; then
        PORT_A=$def_a
        PORT_B=$def_b
    else
        die "instance '$name' is new: give its ports"
    fi
}

ensure_ports_free() {
    local p i
    for p in "$@"; do
        for ((i = 0; i < 50; i++)); do
            port_open "$p" || break
            sleep 0.1
        done
        if port_open "$p"; then
            die "port $p on $HOST is already in use by a process this script does not manage for this instance"
        fi
    done
}

# ---------------------------------------------------------------- installing

ensure_java() {
    if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
        log "installing Java 17 and Maven from Debian"
        apt_install openjdk-17-jre-headless maven
    fi
    local major
    major=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -n1)
    [[ -n $major && $major -ge 17 ]] || die "Kafka 4.x needs Java 17+, found: $(java -version 2>&1 | head -n1)"
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >"$RUN_DIR/apt.log" 2>&1; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update >>"$RUN_DIR/apt.log" 2>&1 || true
        apt-get install -y --no-install-recommends "$@" >>"$RUN_DIR/apt.log" 2>&1 ||
            { show_tail "$RUN_DIR/apt.log"; die "apt-get install $* failed"; }
    fi
}

# Fetch the broker's jars once into the cache (skipped when already complete).
ensure_kafka_libs() {
    [[ -f $KAFKA_LIBS/.complete ]] && return 0
    mkdir -p "$CACHE_DIR"
    exec {dlfd}>"$CACHE_DIR/kafka-$KAFKA_VERSION.lock"
    flock -w 900 "$dlfd" || die "could not lock the Kafka jar cache"
    if [[ ! -f $KAFKA_LIBS/.complete ]]; then
        ensure_java
        log "downloading Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
        local tmp="$KAFKA_LIBS.tmp.$$" mvnlog="$CACHE_DIR/kafka-$KAFKA_VERSION-mvn.log"
        rm -rf "$tmp"
        if ! mvn -B -q -f "$HELPERS/kafka-pom.xml" \
            -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
            show_tail "$mvnlog"
            rm -rf "$tmp"
            die "mvn could not fetch Kafka $KAFKA_VERSION"
        fi
        ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
        touch "$tmp/.complete"
        rm -rf "$KAFKA_LIBS"
        mv "$tmp" "$KAFKA_LIBS"
    fi
    exec {dlfd}>&-
}

ensure_clickhouse() {
    command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null && return 0
    mkdir -p "$RUN_DIR"
    log "installing clickhouse-server and clickhouse-client from Debian"
    apt_install clickhouse-server clickhouse-client
    command -v clickhouse-server >/dev/null || die "clickhouse-server not on PATH after install"
}

cmd_install() {
    mkdir -p "$RUN_DIR"
    ensure_java
    ensure_kafka_libs
    ensure_clickhouse
}

# --------------------------------------------------------------------- Kafka

kafka_dir() { echo "$RUN_DIR/kafka-$1"; }

write_kafka_config() {
    local dir=$1 port=$2 ctrl=$3
    cat >"$dir/server.properties" <<EOF
# Generated by scripts/services.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$ctrl
listeners=PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$ctrl
advertised.listeners=PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$ctrl
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the controller waits for the dead incarnation's session to
# expire before the restarted broker is unfenced (default 9 s); tests kill and
# restart brokers, so keep it short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=168
log.retention.check.interval.ms=300000
EOF
}

# kafka_cmd DIR: set KAFKA_CMD to the java command line (up to the main class)
# for an instance. The instance dir appears on it (kafka.logs.dir), which is what
# pid_alive checks to recognise the instance's process.
kafka_cmd() {
    local dir=$1 heap
    read -r -a heap <<<"$KAFKA_HEAP"
    KAFKA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
        -Dkafka.logs.dir="$dir/logs"
        -Dlog4j2.configurationFile="$HELPERS/kafka-log4j2.properties"
        -cp "$KAFKA_LIBS/*")
}

kafka_wait_ready() {
    local dir=$1 port=$2 rc=0
    "$PYTHON" "$HELPERS/kafka_ready.py" --bootstrap "$HOST:$port" --pid "$(read_pid "$dir")" \
        --log "$dir/logs/server.log" --timeout "$START_TIMEOUT" || rc=$?
    if ((rc != 0)); then
        show_tail "$dir/logs/server.log" "$dir/logs/stdout.log"
        if ((rc == 2)); then
            die "Kafka instance '$(basename "$dir")' exited during startup (logs above)"
        fi
        die "Kafka instance '$(basename "$dir")' did not answer on $HOST:$port within ${START_TIMEOUT}s (logs above)"
    fi
}

kafka_start_locked() {
    local name=$1 dir
    dir=$(kafka_dir "$name")
    resolve_ports "$dir" "$name" 9092 9093 "${2:-}" "${3:-}"
    local port=$PORT_A ctrl=$PORT_B
    if instance_running "$dir"; then
        kafka_wait_ready "$dir" "$port"
        log "kafka $name already running at $HOST:$port"
        return 0
    fi
    ensure_kafka_libs
    ensure_ports_free "$port" "$ctrl"
    mkdir -p "$dir/logs" "$dir/data"
    echo "$port $ctrl" >"$dir/ports"
    write_kafka_config "$dir" "$port" "$ctrl"
    kafka_cmd "$dir"
    if [[ ! -f $dir/data/meta.properties ]]; then
        # Fresh (or half-formatted) storage: format it. Never reformat existing data.
        rm -rf "$dir/data" && mkdir -p "$dir/data"
        local cluster_id
        cluster_id=$("${KAFKA_CMD[@]}" kafka.tools.StorageTool random-uuid 2>>"$dir/logs/format.log" | tail -n1) || true
        [[ -n $cluster_id ]] || { show_tail "$dir/logs/format.log"; die "StorageTool random-uuid failed"; }
        if ! "${KAFKA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$dir/server.properties" --standalone >>"$dir/logs/format.log" 2>&1; then
            show_tail "$dir/logs/format.log" "$dir/logs/server.log"
            die "formatting Kafka storage for '$name' failed"
        fi
    fi
    log "starting kafka $name on $HOST:$port (controller $ctrl)"
    echo "=== start $(date -Is) ===" >>"$dir/logs/stdout.log"
    launch "$dir" "$dir/logs/stdout.log" "${KAFKA_CMD[@]}" kafka.Kafka "$dir/server.properties"
    kafka_wait_ready "$dir" "$port"
    log "kafka $name ready at $HOST:$port"
}

cmd_kafka_start() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/kafka-$1.lock" kafka_start_locked "$@"
}

cmd_kafka_stop() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/kafka-$1.lock" stop_process "$(kafka_dir "$1")" term "kafka $1"
}

cmd_kafka_kill() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/kafka-$1.lock" stop_process "$(kafka_dir "$1")" kill "kafka $1"
}

kafka_reset_locked() {
    stop_process "$(kafka_dir "$1")" kill "kafka $1"
    rm -rf "$(kafka_dir "$1")"
    log "kafka $1 deleted"
}

cmd_kafka_reset() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/kafka-$1.lock" kafka_reset_locked "$1"
}

# ---------------------------------------------------------------- ClickHouse

clickhouse_dir() { echo "$RUN_DIR/clickhouse-$1"; }

write_clickhouse_config() {
    local dir=$1 tcp=$2 http=$3
    cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/services.sh; rewritten on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/logs/server.log</log>
        <errorlog>$dir/logs/server.err.log</errorlog>
        <size>50M</size>
        <count>2</count>
    </logger>
    <listen_host>$HOST</listen_host>
    <tcp_port>$tcp</tcp_port>
    <http_port>$http</http_port>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/data/tmp/</tmp_path>
    <user_files_path>$dir/data/user_files/</user_files_path>
    <format_schema_path>$dir/data/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
EOF
    cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/services.sh: user "default", no password, local only. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

clickhouse_wait_ready() {
    local dir=$1 tcp=$2 http=$3 pid i
    pid=$(read_pid "$dir")
    for ((i = 0; i < START_TIMEOUT * 4; i++)); do
        if ! pid_alive "$pid" "$dir"; then
            show_tail "$dir/logs/server.err.log" "$dir/logs/server.log" "$dir/logs/stdout.log"
            die "ClickHouse instance '$(basename "$dir")' exited during startup (logs above)"
        fi
        if port_open "$tcp" &&
            [[ $(clickhouse-client --host "$HOST" --port "$tcp" -q 'SELECT 1' 2>/dev/null) == 1 ]]; then
            if ! command -v curl >/dev/null ||
                [[ $(curl -fsS --max-time 5 "http://$HOST:$http/?query=SELECT%201" 2>/dev/null) == 1 ]]; then
                return 0
            fi
        fi
        sleep 0.25
    done
    show_tail "$dir/logs/server.err.log" "$dir/logs/server.log" "$dir/logs/stdout.log"
    die "ClickHouse instance '$(basename "$dir")' did not answer SELECT 1 on $HOST:$tcp within ${START_TIMEOUT}s"
}

clickhouse_start_locked() {
    local name=$1 dir
    dir=$(clickhouse_dir "$name")
    resolve_ports "$dir" "$name" 9000 8123 "${2:-}" "${3:-}"
    local tcp=$PORT_A http=$PORT_B
    if instance_running "$dir"; then
        clickhouse_wait_ready "$dir" "$tcp" "$http"
        log "clickhouse $name already running at $HOST:$tcp (http $http)"
        return 0
    fi
    ensure_clickhouse
    ensure_ports_free "$tcp" "$http"
    mkdir -p "$dir/logs" "$dir/data"
    echo "$tcp $http" >"$dir/ports"
    write_clickhouse_config "$dir" "$tcp" "$http"
    # 18.16 runs fine as root. If this script is ever run by another user that
    # owns $RUN_DIR it runs as that user; no privilege switch is needed.
    log "starting clickhouse $name on $HOST:$tcp (http $http)"
    echo "=== start $(date -Is) ===" >>"$dir/logs/stdout.log"
    launch "$dir" "$dir/logs/stdout.log" clickhouse-server --config-file="$dir/config.xml"
    clickhouse_wait_ready "$dir" "$tcp" "$http"
    log "clickhouse $name ready at $HOST:$tcp (http $http)"
}

cmd_clickhouse_start() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/clickhouse-$1.lock" clickhouse_start_locked "$@"
}

cmd_clickhouse_stop() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/clickhouse-$1.lock" stop_process "$(clickhouse_dir "$1")" term "clickhouse $1"
}

cmd_clickhouse_kill() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/clickhouse-$1.lock" stop_process "$(clickhouse_dir "$1")" kill "clickhouse $1"
}

clickhouse_reset_locked() {
    stop_process "$(clickhouse_dir "$1")" kill "clickhouse $1"
    rm -rf "$(clickhouse_dir "$1")"
    log "clickhouse $1 deleted"
}

cmd_clickhouse_reset() {
    check_name "${1:-}"
    with_lock "$RUN_DIR/clickhouse-$1.lock" clickhouse_reset_locked "$1"
}

# ------------------------------------------------------------------ overall

# Each instance dir: prints "kind name".
list_instances() {
    local d base
    for d in "$RUN_DIR"/kafka-* "$RUN_DIR"/clickhouse-*; do
        [[ -d $d ]] || continue
        base=$(basename "$d")
        echo "${base%%-*} ${base#*-}"
    done
}

cmd_up() {
    mkdir -p "$RUN_DIR"
    cmd_install
    cmd_kafka_start main
    cmd_clickhouse_start main
    local kp cp
    read -r kp _ <"$(kafka_dir main)/ports"
    read -r cp _ <"$(clickhouse_dir main)/ports"
    echo "kafka:      $HOST:$kp"
    echo "clickhouse: clickhouse://$HOST:$cp  (http://$HOST:$(awk '{print $2}' "$(clickhouse_dir main)/ports"))"
}

cmd_down() {
    local kind name
    while read -r kind name; do
        [[ -n $kind ]] || continue
        "cmd_${kind}_stop" "$name"
    done < <(list_instances)
}

cmd_status() {
    local kind name dir state ports pid
    printf '%-11s %-16s %-8s %-8s %s\n' KIND NAME STATE PID PORTS
    while read -r kind name; do
        [[ -n $kind ]] || continue
        dir="$RUN_DIR/$kind-$name"
        pid=$(read_pid "$dir")
        if pid_alive "$pid" "$dir"; then state=running; else state=stopped pid=-; fi
        ports=$(cat "$dir/ports" 2>/dev/null || echo "?")
        printf '%-11s %-16s %-8s %-8s %s\n' "$kind" "$name" "$state" "${pid:--}" "$ports"
    done < <(list_instances)
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        install) cmd_install ;;
        kafka-start) cmd_kafka_start "$@" ;;
        kafka-stop) cmd_kafka_stop "$@" ;;
        kafka-kill) cmd_kafka_kill "$@" ;;
        kafka-reset) cmd_kafka_reset "$@" ;;
        clickhouse-start) cmd_clickhouse_start "$@" ;;
        clickhouse-stop) cmd_clickhouse_stop "$@" ;;
        clickhouse-kill) cmd_clickhouse_kill "$@" ;;
        clickhouse-reset) cmd_clickhouse_reset "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
