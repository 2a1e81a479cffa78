// email: an IMAP source (polls mailboxes, and with IMAP IDLE asks the host for a poll as
// soon as mail arrives; emits one message per email with threading fields) and an SMTP sink (sends replies as the configured address). Built on libcurl for
// the protocols and GMime 3 for MIME.
#include "email_options.h"
#include "email_version.h"
#include "idle_sync.h"
#include "smtp_sender.h"

#include <switchboard/plugin.hpp>

#include <memory>

namespace email {

using switchboard::Result;

class EmailPlugin : public switchboard::Plugin {
public:
    EmailPlugin(switchboard::Host host, const switchboard::Config& cfg)
        : Plugin(host), options_(readOptions(cfg)), instanceName_(cfg.instanceName()) {
        if (options_.receives) sync_ = std::make_unique<IdleSync>(options_, host);
        if (options_.sends) smtp_ = std::make_unique<SmtpSender>(options_.smtp);
    }

    Result start() override {
        if (sync_) sync_->start();
        return Result::ok();
    }

    Result stop() override {
        if (sync_) sync_->stop();
        return Result::ok();
    }

    Result poll(std::chrono::milliseconds& nextPoll) override {
        if (!sync_) return Result::unsupported("email instance '" + instanceName_ + "' has no imap_url; it only sends");
        return sync_->poll(nextPoll);
    }

    // Called concurrently from several host threads; SmtpSender is thread-safe.
    Result send(const switchboard::Message& message, switchboard::SendResult& sent) override {
        if (!smtp_)
            return Result::unsupported("email instance '" + instanceName_ +
                                       "' has no smtp_url; set options.smtp_url to send");
        Result r = smtp_->send(message, sent);
        if (r.isOk()) {
            host().count("messages_sent");
        } else if (r.status() == SB_RETRY) {
            host().count("sends_retried");
            host().warn("email not sent yet, will retry: " + r.message());
        } else {
            host().count("sends_failed");
            host().warn("email refused: " + r.message());
        }
        return r;
    }

private:
    EmailOptions options_;
    std::string instanceName_;
    std::unique_ptr<IdleSync> sync_;
    std::unique_ptr<SmtpSender> smtp_;
};

}  // namespace email

static constexpr sb_option kOptions[] = {
    // Receiving (IMAP)
    switchboard::option("imap_url", SB_OPT_STRING, 0, nullptr,
                        "IMAP server to receive from: imaps://host[:993] (TLS from the start) or imap://host[:143] "
                        "(upgraded with STARTTLS, which is then required). Unset: the instance only sends."),
    switchboard::option("imap_username", SB_OPT_STRING, 0, nullptr, "IMAP login name (often the full address)."),
    switchboard::option("imap_password", SB_OPT_STRING, SB_OPTION_SECRET, nullptr,
                        "IMAP password or app password. Write it as ${env:NAME} or ${file:PATH}; never logged."),
    switchboard::option("mailboxes", SB_OPT_STRING_LIST, 0, "INBOX",
                        "Mailboxes (folders) to fetch from, each with its own checkpoint, named as a mail client shows "
                        "them (international names are sent in IMAP's modified UTF-7)."),
    switchboard::option("poll_interval", SB_OPT_DURATION, 0, "60s",
                        "How often to look for new mail (with idle, a safety net). After a connection failure the "
                        "next try comes sooner (1 s, doubling up to this interval)."),
    switchboard::option("idle", SB_OPT_BOOL, 0, "true",
                        "Watch each mailbox with IMAP IDLE (RFC 2177) when the server offers it, and fetch new "
                        "mail as soon as it arrives (one extra connection per mailbox). poll_interval still "
                        "applies as a safety net; without IDLE on the server, or on a host older than plugin SDK "
                        "1.3 (no request_poll), the mailboxes are only polled."),
    switchboard::option("idle_renew", SB_OPT_DURATION, 0, "25m",
                        "How long one IDLE lasts before it is ended and issued again: servers may drop a client "
                        "idle for 30 minutes (RFC 2177). 1s to 29m."),
    switchboard::option("after_processing", SB_OPT_STRING, 0, "seen",
                        "What to do with a message once it is stored: 'leave' (keep it unread as it was), 'seen' "
                        "(mark it read) or 'move' (move it to move_to). Messages are never fetched twice either "
                        "way: the last UID stored is checkpointed."),
    switchboard::option("move_to", SB_OPT_STRING, 0, nullptr,
                        "Folder to move stored messages to, with after_processing: move. It must exist."),
    switchboard::option("max_message_size", SB_OPT_INT, 0, "26214400",
                        "Largest message (bytes, as the server reports it) fetched in full. A larger one is stored "
                        "with its header only and a note with its IMAP URL, so it is not lost."),
    switchboard::option("batch_size", SB_OPT_INT, 0, "100",
                        "Messages committed per transaction (with their checkpoint)."),
    // Sending (SMTP)
    switchboard::option("smtp_url", SB_OPT_STRING, 0, nullptr,
                        "SMTP server to send through: smtps://host[:465] (TLS from the start) or smtp://host[:587] "
                        "(upgraded with STARTTLS, which is then required). Unset: the instance only receives."),
    switchboard::option("smtp_username", SB_OPT_STRING, 0, nullptr,
                        "SMTP AUTH login name. Unset: no AUTH (a relay that trusts this host)."),
    switchboard::option("smtp_password", SB_OPT_STRING, SB_OPTION_SECRET, nullptr,
                        "SMTP password or app password. Write it as ${env:NAME} or ${file:PATH}; never logged."),
    switchboard::option("from_address", SB_OPT_STRING, 0, nullptr,
                        "The address replies are sent from (envelope sender and From:), e.g. support@example.com. "
                        "Required with smtp_url."),
    switchboard::option("from_name", SB_OPT_STRING, 0, nullptr, "Display name in From:, e.g. 'Example Support'."),
    // Both
    switchboard::option("ca_file", SB_OPT_STRING, 0, nullptr,
                        "PEM file of CA certificates to trust instead of the system's (a private CA or a "
                        "self-signed server). Certificates and host names are always verified."),
    switchboard::option("allow_plaintext", SB_OPT_BOOL, 0, "false",
                        "Allow imap:// and smtp:// without STARTTLS: passwords and mail cross the network in clear. "
                        "Only for a server on the same host or a trusted network."),
    switchboard::option("timeout", SB_OPT_DURATION, 0, "30s",
                        "Longest wait to connect, and longest stall of a transfer in progress."),
    switchboard::option("channel", SB_OPT_STRING, 0, "email", "Channel name given to every message of this instance."),
};

SWITCHBOARD_PLUGIN(email::EmailPlugin, "email", email::kVersion,
                   "Email: receives from IMAP mailboxes (incremental, checkpointed, at once with IMAP IDLE) and "
                   "sends replies over SMTP.",
                   SB_KIND_SOURCE | SB_KIND_SINK, kOptions)
