/*
 * Switchboard plugin ABI — the whole contract between the host and a connector plugin.
 *
 * This header is plain C (C99/C++ compatible) and depends on nothing but <stddef.h> and
 * <stdint.h>. No C++ type, exception, allocator or std:: object crosses it, so a plugin
 * built with another compiler or standard library (clang/libc++ against a gcc/libstdc++
 * host) loads and works. Most connector authors use the C++ wrapper in
 * <switchboard/plugin.hpp> instead of writing against this header directly.
 *
 * ENTRY POINT
 *   A plugin exports exactly one symbol, SB_ENTRY_SYMBOL ("switchboard_plugin_descriptor"),
 *   of type sb_entry_fn. It returns a pointer to a static sb_plugin_descriptor that stays
 *   valid for as long as the library is loaded. The host reads struct_size and abi_major
 *   before touching anything else, and refuses a plugin whose major ABI it does not serve.
 *
 * VERSIONING (append-only)
 *   Every struct starts with `uint32_t struct_size`. Structs only ever grow at the end; a
 *   field added in a later minor version is marked "since 1.N". A reader must check
 *   struct_size before reading a field beyond the 1.0 layout (SB_HAS_FIELD does that).
 *   A change of abi_major is the only break.
 *   - A host accepts a plugin built against an older 1.x SDK (smaller descriptor) and
 *     treats the missing tail as absent.
 *   - A plugin built against a newer 1.x SDK loads on an older 1.x host; the host ignores
 *     descriptor fields it does not know, and the plugin must check sb_host_api.struct_size
 *     before calling a host service newer than 1.0 (the C++ wrapper does this).
 *   - In an array of a versioned struct (options, messages, identities, attachments) every
 *     element has the same struct_size, and readers step through it by array[0].struct_size,
 *     never by their own sizeof: SB_ARRAY_AT does that. sb_str and sb_kv carry no size and
 *     are frozen for the whole major version.
 *
 * OWNERSHIP (who allocates frees)
 *   - Types suffixed _host_ptr are owned by the host; the plugin never frees them.
 *   - Types suffixed _plugin_ptr are owned by the plugin; the host never frees them and
 *     hands them back to the plugin's destroy callback.
 *   - Every sb_str and array passed INTO a call is borrowed: valid for that call only.
 *     Copy what you keep.
 *   - Data the plugin hands back (error text, response bodies, checkpoint values) is always
 *     copied by the host during the call, through sb_errbuf or a host writer callback, so
 *     no allocation ever changes hands.
 *
 * ERRORS
 *   Every fallible call returns an sb_status and may write a human-readable, UTF-8 reason
 *   into the sb_errbuf it was given (truncated to fit; the host provides at least
 *   SB_ERRBUF_MIN_CAPACITY bytes). A plugin never aborts, exits, or lets a C++ exception
 *   escape through this ABI: the host would have no way to recover.
 *
 * THREADING
 *   - create/start/stop/destroy/poll for one instance are never called concurrently with
 *     each other.
 *   - handle_webhook and send may be called concurrently from several host threads while
 *     the instance is started; a plugin that needs serial access locks internally.
 *   - Every host service in sb_host_api is thread-safe and may be called from any thread,
 *     including threads the plugin owns, between a successful start and the return of stop.
 *
 * RETRIES AND STATE
 *   The host owns checkpoints, retries, backoff, dead-lettering, dedupe and metrics. A
 *   plugin never sleeps to retry: a sink's send returns SB_RETRY (optionally with a delay),
 *   SB_FAIL_DATA (this message can never succeed: dead-letter it) or SB_FAIL_FATAL (the
 *   instance is broken, not the message: the host fails the instance and restarts it with
 *   backoff, and the message waits; see sb_status).
 *
 * PROCESS TRANSPARENCY
 *   Every interaction is a call with plain data (and host callbacks that take plain data),
 *   so the same plugin file can run in the host process or in a supervised child process.
 *   Plugins must not rely on sharing memory or globals with the host.
 */
#ifndef SWITCHBOARD_PLUGIN_H
#define SWITCHBOARD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_ABI_VERSION_MAJOR 1
#define SB_ABI_VERSION_MINOR 4

#define SB_ENTRY_SYMBOL "switchboard_plugin_descriptor"

#if defined(_WIN32)
#define SB_EXPORT __declspec(dllexport)
#else
#define SB_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct of this size contains `field` (use on structs the other side filled).
 * THE way to ask whether the other side has something newer than 1.0: a host service
 * (SB_HAS_FIELD(api, sb_host_api, request_poll)), a descriptor field, a message field.
 * abi_minor is informational (logs, describe); the SB_*_SIZE_1_x macros below are kept for
 * code written against older SDKs. */
#define SB_HAS_FIELD(ptr, type, field) \
    ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* Element i of an array of a size-prefixed struct, stepping by the writer's struct_size. */
#define SB_ARRAY_AT(type, array, i) \
    ((const type*)((const char*)(array) + (size_t)(i) * (size_t)((array)[0].struct_size)))

/* ---------------------------------------------------------------------------------------
 * Basic types
 * ------------------------------------------------------------------------------------- */

/* A UTF-8 byte span; not NUL-terminated. {NULL, 0} is the empty/absent value.
 * Borrowed: valid for the call it is passed to only. */
typedef struct sb_str {
    const char* data;
    size_t size;
} sb_str;

/* A key/value pair of UTF-8 spans. Borrowed, like sb_str. */
typedef struct sb_kv {
    sb_str key;
    sb_str value;
} sb_kv;

/* A host-owned buffer the plugin writes a NUL-terminated UTF-8 message into.
 * Write at most capacity bytes including the NUL; truncate longer text. */
#define SB_ERRBUF_MIN_CAPACITY 1024
typedef struct sb_errbuf {
    char* data;
    size_t capacity;
} sb_errbuf;

typedef enum sb_status {
    SB_OK = 0,
    /* Transient failure: try again later (a sink may give a delay in sb_send_result). */
    SB_RETRY = 1,
    /* This input can never succeed (bad payload, rejected recipient): dead-letter it. */
    SB_FAIL_DATA = 2,
    /* The instance is broken, not the input (credentials refused or revoked, lost state).
     * This is the one meaning of SB_FAIL_FATAL; the C++ wrapper and the guide refer here.
     * From any call (create, start, poll, handle_webhook, send) the host fails the instance:
     * state "backoff" with this reason as its last_error (write no secret in it), nothing
     * more is called on it, it is stopped and destroyed, and a new one is created and started
     * after a backoff that grows while the failure lasts (a resume or restart tries at once).
     * From send, the message is not dead-lettered and costs no attempt: it and everything
     * else queued for the instance wait, and are sent once the instance runs again. */
    SB_FAIL_FATAL = 3,
    /* The instance's configuration is invalid (returned by create). */
    SB_FAIL_CONFIG = 4,
    /* The call is not supported by this plugin or host. */
    SB_UNSUPPORTED = 5
} sb_status;

typedef enum sb_log_level {
    SB_LOG_TRACE = 0,
    SB_LOG_DEBUG = 1,
    SB_LOG_INFO = 2,
    SB_LOG_WARN = 3,
    SB_LOG_ERROR = 4
} sb_log_level;

/* Opaque handles; see OWNERSHIP above. */
typedef struct sb_host_instance* sb_host_instance_host_ptr;
typedef struct sb_plugin_instance* sb_plugin_instance_plugin_ptr;

/* ---------------------------------------------------------------------------------------
 * Option schema: declared once by the plugin; the host validates config against it, fills
 * defaults, and generates `switchboard plugins describe` output from it.
 * ------------------------------------------------------------------------------------- */

typedef enum sb_option_type {
    SB_OPT_STRING = 0,
    SB_OPT_INT = 1,      /* signed 64-bit decimal integer */
    SB_OPT_BOOL = 2,     /* true/false */
    SB_OPT_DOUBLE = 3,
    SB_OPT_DURATION = 4, /* passed to the plugin as milliseconds; config accepts 500ms, 30s, 5m, 1h */
    SB_OPT_STRING_LIST = 5 /* passed as one sb_kv per element, in order, with the same key */
} sb_option_type;

#define SB_OPTION_REQUIRED 0x1u /* config must set it; there is no default */
#define SB_OPTION_SECRET 0x2u   /* never logged, never returned by the API, shown as "***" */

/* Syntaxes a string option's value can be required to have (since 1.4, sb_option.format). */
typedef enum sb_option_format {
    SB_FORMAT_ANY = 0,
    SB_FORMAT_URL = 1,      /* an absolute URL with a scheme and a host */
    SB_FORMAT_HTTP_URL = 2, /* an absolute http:// or https:// URL */
    SB_FORMAT_EMAIL = 3     /* an addr-spec: local@domain */
} sb_option_format;

/* OWNERSHIP: static plugin data, valid while the library is loaded.
 * Every constraint (since 1.4) is checked by the host before create and by
 * `switchboard check-config`, with the file, line and column of the value; NULL / 0 means
 * "no constraint". A 1.0-1.3 host ignores them, so create must not rely on them being checked
 * when it runs on an older host. */
typedef struct sb_option {
    uint32_t struct_size;
    const char* name;          /* NUL-terminated, [a-z0-9_]+ */
    sb_option_type type;
    uint32_t flags;            /* SB_OPTION_* */
    const char* default_value; /* textual, as written in YAML; NULL when none */
    const char* description;   /* one or more sentences, shown in generated docs */

    /* --- since 1.4: constraints --- */
    const char* allowed;       /* "a|b|c": the value (each element of a list) is one of these, exactly */
    const char* pattern;       /* RE2 syntax: the whole value (each element of a list) must match */
    const char* min_value;     /* inclusive bounds of an int, double or duration, written as in */
    const char* max_value;     /*   YAML ("1", "0.5", "500ms"); the length of a string list */
    uint32_t format;           /* sb_option_format: the syntax of a string (each element of a list) */
    const char* requires_options; /* "a,b": when this option has a value, these must have one too */
    const char* one_of_group;  /* options naming the same group: at least one of them must have a
                                  value (a default counts), e.g. Twilio's from / messaging_service_sid */
} sb_option;

/* Validated configuration handed to validate() and create(). Every declared option that is
 * set or has a default appears once (lists: once per element): a plugin reads defaults from
 * here and never writes them a second time. Secrets are already resolved.
 * Borrowed: valid during the call only — copy what you keep. */
typedef struct sb_config {
    uint32_t struct_size;
    const sb_kv* entries;
    size_t entry_count;
    sb_str instance_name; /* the connector instance's name from config */
} sb_config;

/* Host-owned sink for configuration problems found by a plugin's validate (since 1.4).
 * option: the option the problem is about (the host points at its line in the file), or
 * empty for the instance as a whole; message: what is wrong and how to fix it, UTF-8, with no
 * secret value in it. Both borrowed for the call. May be called any number of times. */
typedef void (*sb_config_problem_fn)(void* host_ctx, sb_str option, sb_str message);

/* ---------------------------------------------------------------------------------------
 * The normalized message: what crosses the boundary for every channel.
 * All spans borrowed for the call.
 * ------------------------------------------------------------------------------------- */

typedef enum sb_direction {
    SB_DIRECTION_INBOUND = 0,  /* from the customer to us */
    SB_DIRECTION_OUTBOUND = 1  /* from us to the customer */
} sb_direction;

/* A contact point. type: "email", "phone", or "external" (value is "system:id", e.g.
 * "salesforce:0035g00000abcde", "whatsapp:351912345678"). scope: empty for global
 * identifiers; otherwise the space the id is valid in (a page, bot, business account or
 * CRM org) — the host matches scoped identities only within the same scope. The value is
 * raw, as the channel gave it; the host normalizes it. */
typedef struct sb_identity {
    uint32_t struct_size;
    sb_str type;
    sb_str value;
    sb_str scope;
} sb_identity;

/* Attachment metadata. The content itself is referenced (URL or storage ref), never inlined. */
typedef struct sb_attachment {
    uint32_t struct_size;
    sb_str name;
    sb_str content_type;
    uint64_t size_bytes;   /* 0 when unknown */
    sb_str content_id;     /* e.g. MIME Content-ID */
    sb_str reference;      /* where the content is: URL or storage reference */
} sb_attachment;

/* One message. Inbound (a source's emit) the plugin fills the 1.0 fields. Outbound (a sink's
 * send) the host fills them from the outbox entry:
 *   channel        the channel chosen for the delivery
 *   direction      SB_DIRECTION_OUTBOUND
 *   source_id      "outbox:<key>", stable across attempts: an idempotency key for the provider
 *   conversation_id, in_reply_to, references: the thread of the interaction this answers, if any
 *   recipients     the customer's addresses chosen for this channel (type email/phone/external,
 *                  value normalized: E.164 phones, "system:id" external ids), consent checked
 *   subject, text, html: what to send
 *   attributes     the request's attributes, plus "outbox.idempotency_key"
 *   occurred_at_ms when the host handed it over
 *   sender, attachments, raw: empty
 * and, since 1.4, customer_id, outbox_id, kind, purpose, attempt and replay below. */
typedef struct sb_message {
    uint32_t struct_size;
    sb_str channel;             /* "webchat", "email", "sms", "whatsapp", "voice", ... */
    sb_direction direction;
    sb_str source_id;           /* the provider's message id: the idempotency key, required */
    sb_str conversation_id;     /* the provider's thread/session id, when it has one */
    sb_str in_reply_to;         /* the source id this message answers (email In-Reply-To) */
    const sb_str* references;   /* thread ancestry, oldest first (email References) */
    size_t reference_count;
    sb_str sender_name;         /* display name as the channel gave it */
    const sb_identity* sender;  /* inbound: the customer's identities; outbound: ours */
    size_t sender_count;
    const sb_identity* recipients; /* outbound: where to deliver; inbound: our address(es) */
    size_t recipient_count;
    sb_str subject;
    sb_str text;                /* plain-text body, UTF-8 */
    sb_str html;                /* optional HTML body */
    const sb_attachment* attachments;
    size_t attachment_count;
    int64_t occurred_at_ms;     /* when it happened at the source, Unix ms; 0 when unknown */
    const sb_kv* attributes;    /* extra attributes. Keys "customer.<name>" describe the person
                                   (customer.tier, customer.language) and become customer
                                   attribute values with this message as provenance; other
                                   keys describe the message (locale, page). */
    size_t attribute_count;
    sb_str raw_content_type;    /* media type of raw, e.g. "application/json" */
    sb_str raw;                 /* the original payload, kept for audit and reprocessing */

    /* --- since 1.4: set by the host on outbound messages (send); ignored in emit --- */
    sb_str customer_id;         /* the customer this goes to, as the customer API names them */
    sb_str outbox_id;           /* the outbox entry's id, decimal (as GET /api/v1/outbox lists it) */
    sb_str kind;                /* "message" (to a customer), "reply" (answers an interaction),
                                   "forward" (a copy of an interaction), "case" (for a CRM) */
    sb_str purpose;             /* consent purpose: "service" or "marketing" */
    uint32_t attempt;           /* 1 for the first try of this entry, 2 for its first retry, ... */
    uint32_t replay;            /* 1 when an operator replayed the entry from the dead letters */
} sb_message;

/* A batch handed to emit(). When checkpoint_key is non-empty the host stores
 * checkpoint_value under it in the same commit as the messages: a source resumes exactly
 * where its last committed batch ended. */
typedef struct sb_emit_batch {
    uint32_t struct_size;
    const sb_message* messages;
    size_t message_count;
    sb_str checkpoint_key;
    sb_str checkpoint_value;
} sb_emit_batch;

/* What the host did with each message of a batch (filled by the host, one per message,
 * into an array the plugin provides; pass NULL when you do not need it). A batch is atomic:
 * on SB_OK every message is STORED or DUPLICATE; on SB_FAIL_DATA nothing of the batch (nor
 * its checkpoint) is stored and the offending messages are marked REJECTED. */
typedef enum sb_emit_outcome {
    SB_EMIT_STORED = 0,    /* durably committed */
    SB_EMIT_DUPLICATE = 1, /* already stored earlier (same instance and source_id) */
    SB_EMIT_REJECTED = 2   /* invalid (e.g. empty source_id); errbuf names the field */
} sb_emit_outcome;

/* ---------------------------------------------------------------------------------------
 * Webhooks: the host serves /webhooks/{instance}[/...] and calls handle_webhook.
 * ------------------------------------------------------------------------------------- */

/* A route a plugin serves (since 1.4, sb_plugin_descriptor.webhook_routes). When a plugin
 * declares routes the host answers a request matching none of them itself: 404 for a path no
 * route has, 405 with an Allow header for a method the path's routes do not list; the plugin
 * only sees requests it declared. Plugins declaring none get every request (1.0-1.3).
 * OWNERSHIP: static plugin data. */
typedef struct sb_webhook_route {
    uint32_t struct_size;
    const char* methods;     /* "POST", or several: "GET|POST" (upper case) */
    const char* path;        /* after /webhooks/{instance}: "" (the instance URL itself), "/status",
                                or a prefix ending in a slash and an asterisk ("/media/" then "*":
                                any path below /media) */
    const char* description; /* what the provider sends here, shown by `plugins describe` */
} sb_webhook_route;

typedef struct sb_http_request {
    uint32_t struct_size;
    sb_str method;      /* "GET", "POST", ... */
    sb_str path;        /* the part after /webhooks/{instance}, "" or starting with "/" */
    sb_str query;       /* raw query string without "?" */
    const sb_kv* headers; /* names lower-cased */
    size_t header_count;
    sb_str body;
    sb_str remote_addr;
    sb_str public_url;  /* the full public URL of this request as configured
                           (server.public_url + path + query), for signature checks */
} sb_http_request;

/* Host-owned response writer. The plugin sets status and calls the writers; the host
 * copies everything during the call. */
typedef struct sb_http_response {
    uint32_t struct_size;
    int status;         /* defaults to 200 */
    void* host_ctx;
    void (*set_header)(void* host_ctx, sb_str name, sb_str value);
    void (*write_body)(void* host_ctx, sb_str data);
} sb_http_response;

/* ---------------------------------------------------------------------------------------
 * Sink results.
 * ------------------------------------------------------------------------------------- */

/* The longest provider message id a host keeps (bytes, without the NUL). The host's buffer
 * holds at least this plus the NUL. A longer id is an error, never cut: a cut id would match
 * no delivery receipt (the C++ wrapper fails the send with a reason naming the length). */
#define SB_PROVIDER_MESSAGE_ID_MAX 255

typedef struct sb_send_result {
    uint32_t struct_size;
    uint32_t retry_after_ms;         /* with SB_RETRY: wait at least this long (0 = host decides) */
    char* provider_message_id;       /* host-owned buffer: write the provider's id, NUL-terminated */
    size_t provider_message_id_capacity; /* >= SB_PROVIDER_MESSAGE_ID_MAX + 1 */
} sb_send_result;

/* Delivery receipts (since 1.1): what a channel said later about an outbound message the
 * host sent through this instance, matched by the provider message id the sink returned in
 * sb_send_result. Passed to sb_host_api.report_delivery; borrowed for the call. */
typedef enum sb_delivery_status {
    SB_DELIVERY_QUEUED = 0,      /* accepted by the provider, not yet handed on */
    SB_DELIVERY_SENT = 1,        /* handed to the carrier / mail server */
    SB_DELIVERY_DELIVERED = 2,   /* reached the recipient's device or mailbox */
    SB_DELIVERY_READ = 3,        /* opened or read by the recipient */
    SB_DELIVERY_FAILED = 4,      /* the provider gave up (error_code/detail say why) */
    SB_DELIVERY_UNDELIVERED = 5  /* the carrier could not deliver it */
} sb_delivery_status;

typedef struct sb_delivery_report {
    uint32_t struct_size;
    sb_str provider_message_id; /* as written into sb_send_result.provider_message_id; required */
    sb_delivery_status status;
    sb_str error_code;          /* the provider's code for failed/undelivered; may be empty */
    sb_str detail;              /* human-readable detail; may be empty */
    int64_t occurred_at_ms;     /* when the provider saw it, Unix ms; 0 when unknown */
} sb_delivery_report;

/* Poll results (sources that pull). */
typedef struct sb_poll_result {
    uint32_t struct_size;
    uint32_t next_poll_ms; /* when to poll again; 0 = the instance's default interval */
} sb_poll_result;

/* ---------------------------------------------------------------------------------------
 * Host services, passed to create(). Thread-safe. Append-only: check struct_size before
 * calling an entry added after 1.0. Every entry of 1.0 is always non-NULL.
 * ------------------------------------------------------------------------------------- */

typedef void (*sb_receive_fn)(void* plugin_ctx, sb_str value);

typedef struct sb_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* --- since 1.0 --- */

    /* Log a line scoped to the instance ("[source:webchat:site-chat] ..."). Never pass a
     * secret. Check log_enabled first when building the text is costly. */
    void (*log)(sb_host_instance_host_ptr inst, sb_log_level level, sb_str message);
    int (*log_enabled)(sb_host_instance_host_ptr inst, sb_log_level level);

    /* Durably commit a batch of messages (and optional checkpoint) before returning SB_OK.
     * outcomes may be NULL, else it has batch->message_count elements.
     * SB_RETRY: the store is busy or behind (back off; a webhook should answer 503).
     * SB_FAIL_DATA: the batch is malformed; errbuf says what and where. */
    sb_status (*emit)(sb_host_instance_host_ptr inst, const sb_emit_batch* batch,
                      sb_emit_outcome* outcomes, sb_errbuf err);

    /* Read the committed checkpoint value for key. Calls receive(plugin_ctx, value) once
     * during the call when a value exists (value borrowed for that callback only) and
     * returns SB_OK; returns SB_OK without calling receive when no value exists. */
    sb_status (*checkpoint_get)(sb_host_instance_host_ptr inst, sb_str key, void* plugin_ctx,
                                sb_receive_fn receive, sb_errbuf err);
    /* Store a checkpoint outside of emit (e.g. a cursor that advanced without messages). */
    sb_status (*checkpoint_put)(sb_host_instance_host_ptr inst, sb_str key, sb_str value,
                                sb_errbuf err);

    /* Metrics, exported per instance as switchboard_plugin_<plugin>_<name>{instance="..."}
     * (<plugin> is the descriptor's name with '-' as '_'), with the HELP text the plugin
     * declares in sb_plugin_descriptor.metrics (since 1.4). name: [a-z0-9_]+. counter_add for
     * monotonically increasing counts, gauge_set for levels. */
    void (*counter_add)(sb_host_instance_host_ptr inst, sb_str name, double delta);
    void (*gauge_set)(sb_host_instance_host_ptr inst, sb_str name, double value);

    /* --- since 1.1 (check SB_HAS_FIELD(api, sb_host_api, report_delivery) first) --- */

    /* Record a delivery receipt for an outbound message this instance sent: the host updates
     * its delivery status in the customer's timeline. Typically called from a webhook that
     * receives the provider's status callbacks. A receipt for a provider id the host does
     * not know yet (the callback beat the send's own answer) is kept for a day and applied
     * once the send is recorded: answer the provider 2xx.
     * SB_FAIL_DATA: the report is malformed (errbuf says which). SB_RETRY: the store is busy. */
    sb_status (*report_delivery)(sb_host_instance_host_ptr inst, const sb_delivery_report* report,
                                 sb_errbuf err);

    /* --- since 1.2 (check SB_HAS_FIELD(api, sb_host_api, report_consent) first) --- */

    /* Record what a customer said about receiving messages at one contact point, e.g. an SMS
     * "STOP" or "START" keyword, or a provider error meaning the number opted out (Twilio
     * 21610). The host normalizes address (type "phone"/"email"/"external", raw as the channel
     * gave it) to its match key and writes the same consent record the customer API's
     * PUT /api/v1/customers/{id}/consent writes; the outbox checks it before every send.
     * Consent belongs to the address, so no customer needs to exist yet.
     *   purpose: "service", "marketing", or empty for both.
     *   status:  "opted_in" or "opted_out".
     *   source:  what said so, kept as evidence, e.g. "sms STOP"; may be empty.
     * SB_FAIL_DATA: a field is invalid or the address cannot be normalized (errbuf says which).
     * SB_RETRY: the store is busy. */
    sb_status (*report_consent)(sb_host_instance_host_ptr inst, const sb_identity* address, sb_str purpose,
                                sb_str status, sb_str source, sb_errbuf err);

    /* --- since 1.3 (check SB_HAS_FIELD(api, sb_host_api, request_poll) first) --- */

    /* Ask the host to call this instance's poll as soon as it can, e.g. from a thread that
     * watches for new data (IMAP IDLE, a change feed) and learned there is something to fetch.
     * The poll itself still runs on the host's thread, never concurrently with another poll.
     *   - Coalesced: many requests before the poll starts give one poll; a request made while
     *     a poll is running gives exactly one more poll right after it.
     *   - Backpressure still applies: while the store is busy the host keeps its slower poll
     *     pace and the requested poll runs when that delay is over.
     *   - Never blocks and never waits for the poll; safe to call from any plugin thread
     *     between start and the return of stop, including from inside poll or handle_webhook.
     *   - No effect for an instance without poll, or while it is paused, stopping or stopped. */
    void (*request_poll)(sb_host_instance_host_ptr inst);

    /* --- since 1.4 (check SB_HAS_FIELD(api, sb_host_api, count_rejected) first) --- */

    /* Count a request or message the plugin refused (a forged signature, a payload it cannot
     * read) in the instance's counters.rejected and switchboard_messages_rejected_total
     * {instance, reason}. reason: [a-z0-9_]+, e.g. "bad_signature", "bad_payload". The plugin
     * still writes the answer itself (the C++ wrapper's Plugin::refuse does both). */
    void (*count_rejected)(sb_host_instance_host_ptr inst, sb_str reason);
} sb_host_api;

/* ---------------------------------------------------------------------------------------
 * The descriptor: static data plus the plugin's callbacks.
 * ------------------------------------------------------------------------------------- */

#define SB_KIND_SOURCE 0x1u /* produces messages (webhook and/or poll) */
#define SB_KIND_SINK 0x2u   /* delivers outbound messages (send) */

/* A metric the plugin exports (since 1.4, sb_plugin_descriptor.metrics): its HELP text. */
typedef struct sb_metric {
    uint32_t struct_size;
    const char* name;  /* as passed to counter_add / gauge_set */
    const char* type;  /* "counter" or "gauge" */
    const char* help;  /* one line for the exposition's # HELP */
} sb_metric;

typedef struct sb_plugin_descriptor {
    uint32_t struct_size;
    uint32_t abi_major; /* SB_ABI_VERSION_MAJOR the plugin was built with */
    uint32_t abi_minor; /* SB_ABI_VERSION_MINOR the plugin was built with */

    /* --- since 1.0 --- */
    const char* name;        /* registry name, [a-z0-9_-]+, e.g. "webchat" */
    const char* version;     /* the plugin's own version, e.g. "1.2.0" */
    const char* description; /* one line */
    uint32_t kind;           /* SB_KIND_SOURCE | SB_KIND_SINK */
    const sb_option* options;
    size_t option_count;

    /* Build an instance from validated config. The host keeps `host` and `inst` valid
     * until destroy returns. On failure return SB_FAIL_CONFIG (a problem in config, named
     * in err) or SB_FAIL_FATAL, and leave *out unset. Required. */
    sb_status (*create)(const sb_host_api* host, sb_host_instance_host_ptr inst,
                        const sb_config* config, sb_plugin_instance_plugin_ptr* out,
                        sb_errbuf err);
    /* Begin work (open connections, start plugin threads). Idempotent. Required. */
    sb_status (*start)(sb_plugin_instance_plugin_ptr self, sb_errbuf err);
    /* Stop work; no host service is called after it returns. Idempotent. Required. */
    sb_status (*stop)(sb_plugin_instance_plugin_ptr self, sb_errbuf err);
    /* Free the instance. Called once, after stop. Required. */
    void (*destroy)(sb_plugin_instance_plugin_ptr self);

    /* Sources fed by HTTP: answer a request to /webhooks/{instance}[/...]. Return SB_OK
     * when a response was written (whatever its HTTP status). Optional (NULL).
     * A source may set neither handle_webhook nor poll and push from threads it starts in
     * start() (IMAP IDLE, a websocket) through emit. */
    sb_status (*handle_webhook)(sb_plugin_instance_plugin_ptr self, const sb_http_request* req,
                                sb_http_response* resp, sb_errbuf err);
    /* Sources that pull: fetch what is new and emit it. Optional (NULL). */
    sb_status (*poll)(sb_plugin_instance_plugin_ptr self, sb_poll_result* result, sb_errbuf err);
    /* Sinks: deliver one outbound message. Required when kind has SB_KIND_SINK. Returns
     * SB_OK, SB_RETRY (with result->retry_after_ms), SB_FAIL_DATA (dead-letter this message)
     * or SB_FAIL_FATAL (the instance is broken; the message waits): see sb_status. */
    sb_status (*send)(sb_plugin_instance_plugin_ptr self, const sb_message* message,
                      sb_send_result* result, sb_errbuf err);

    /* --- since 1.4 (read with SB_HAS_FIELD) --- */

    /* Check a configuration without building anything: no connection, no thread, no side
     * effect. Called by `switchboard check-config` and before every create, after the host
     * checked the schema and its constraints; reports each problem through `problem` and
     * returns SB_OK (none) or SB_FAIL_CONFIG. Every config error create would raise belongs
     * here, so check-config and run agree. Optional (NULL). */
    sb_status (*validate)(const sb_config* config, void* host_ctx, sb_config_problem_fn problem);
    /* The webhook routes served (see sb_webhook_route); NULL/0: every request is passed on.
     * A plugin of any kind with handle_webhook may declare them; a pure sink uses them for
     * delivery-receipt callbacks. */
    const sb_webhook_route* webhook_routes;
    size_t webhook_route_count;
    /* The metrics the plugin exports, for their HELP text; NULL/0 when none declared. */
    const sb_metric* metrics;
    size_t metric_count;
    /* Sinks: the identity types the plugin can deliver to, comma-separated: "phone", "email",
     * "external" or "external:<system>" (only ids "<system>:..."). The host picks a customer's
     * recipients of these types. NULL: guessed from the channel name (sms, whatsapp, voice:
     * phone; email: email), as 1.0-1.3 hosts do. */
    const char* reaches;
} sb_plugin_descriptor;

/* The one exported entry point. Returns a static descriptor; must not fail or allocate. */
typedef const sb_plugin_descriptor* (*sb_entry_fn)(void);

/* Layout sizes of the 1.0 structs: the smallest a host accepts (and a 1.x plugin needs). */
#define SB_PLUGIN_DESCRIPTOR_SIZE_1_0 \
    (offsetof(sb_plugin_descriptor, send) + sizeof(((sb_plugin_descriptor*)0)->send))
#define SB_HOST_API_SIZE_1_0 \
    (offsetof(sb_host_api, gauge_set) + sizeof(((sb_host_api*)0)->gauge_set))
/* Layout size of the 1.1 host services table (adds report_delivery). */
#define SB_HOST_API_SIZE_1_1 \
    (offsetof(sb_host_api, report_delivery) + sizeof(((sb_host_api*)0)->report_delivery))
/* Layout size of the 1.2 host services table (adds report_consent). */
#define SB_HOST_API_SIZE_1_2 \
    (offsetof(sb_host_api, report_consent) + sizeof(((sb_host_api*)0)->report_consent))
/* Layout size of the 1.3 host services table (adds request_poll). */
#define SB_HOST_API_SIZE_1_3 \
    (offsetof(sb_host_api, request_poll) + sizeof(((sb_host_api*)0)->request_poll))
/* Layout sizes of the 1.0-1.3 sb_option and sb_message (1.4 appends to both). */
#define SB_OPTION_SIZE_1_0 (offsetof(sb_option, description) + sizeof(((sb_option*)0)->description))
#define SB_MESSAGE_SIZE_1_0 (offsetof(sb_message, raw) + sizeof(((sb_message*)0)->raw))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHBOARD_PLUGIN_H */
