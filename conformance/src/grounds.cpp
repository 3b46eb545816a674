// grounds.cpp — why each rule of the catalogue holds: the RFC sentence it
// rests on (quoted as published), the section it is in, how smtpkit reads
// it (the level where no keyword gives one, what the prose adds to the
// ABNF), and the errata of that RFC considered. Joined to the catalogue by
// id (rules.cpp); grammar rules by their grammar id, for either side.
// The audit behind it and the changes it made: docs/rules.md, "Audit".
//
// RFC 5321's verified errata are three (1683, 2578, 4198). For the
// extension RFCs the errata pages could not be retrieved during the audit;
// rows say so. Where an extension's text could not be retrieved either,
// `quote` is empty and `note` summarises it, marked as a summary.
#include "grounds.hpp"

#include <array>

namespace smtpkit::conformance {
namespace {

constexpr std::array<grounds, 162> rows{{
    {"client.greeting.early-talker", "RFC 5321 §4.3.1",
     "The sender SHOULD wait for this greeting message before sending any commands.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.lockstep", "RFC 5321 §4.3.1",
     "Unless other arrangements are negotiated through service extensions, the sender MUST wait for this response "
     "before sending further commands.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.pipelining.sync-point", "RFC 2920 §3.1",
     "The EHLO, DATA, VRFY, EXPN, TURN, QUIT, and NOOP commands can only appear as the last command in a group since "
     "their success or failure produces a change of state which the client SMTP must accommodate.",
     "RFC 3207 §4: \"the STARTTLS command must be the last command in a group\".",
     "RFC 2920: errata not retrieved by this audit; read as published"},
    {"client.data.before-354", "RFC 5321 §3.3",
     "If one of those replies (or any other 5yz reply) is received, the client MUST NOT send the message data; more "
     "generally, message data MUST NOT be sent unless a 354 reply is received.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.no-ehlo", "RFC 5321 §4.1.1.1",
     "In any event, a client MUST issue HELO or EHLO before starting a mail transaction.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.before-ehlo", "RFC 5321 §4.1.4",
     "The NOOP, HELP, EXPN, VRFY, and RSET commands can be used at any time during a session, or without previously "
     "initializing a session. SMTP servers SHOULD process these normally (that is, not return a 503 code) even if no "
     "EHLO command has yet been received; clients SHOULD open a session with EHLO before sending these commands.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.nested-mail", "RFC 5321 §4.1.4",
     "MAIL (or SEND, SOML, or SAML) MUST NOT be sent if a mail transaction is already open, i.e., it should be sent "
     "only if no mail transaction had been started in the session, or if the previous one successfully concluded with "
     "a successful DATA command, or if the previous one was aborted, e.g., with a RSET or new EHLO.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.rcpt-without-mail", "RFC 5321 §3.3",
     "If a RCPT command appears without a previous MAIL command, the server MUST return a 503 \"Bad sequence of "
     "commands\" response.",
     "A sequence the server must refuse is the client's breach too: docs/reports.md, Levels.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.data-without-rcpt", "RFC 5321 §4.1.4",
     "Once started, a mail transaction consists of a transaction beginning command, one or more RCPT commands, and a "
     "DATA command, in that order. [...] If the commands in a transaction are out of order to the degree that they "
     "cannot be processed by the server, a 503 failure reply MUST be returned.",
     "§3.3 on MAIL or RCPT sent and refused: \"the server MAY return a \"command out of sequence\" (503) or \"no valid "
     "recipients\" (554) reply in response to the DATA command\": not the client's breach.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.sequence.after-quit", "RFC 5321 §4.1.4", "The last command in a session MUST be the QUIT command.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.session.no-quit", "RFC 5321 §4.1.1.10",
     "The sender MUST NOT intentionally close the transmission channel until it sends a QUIT command, and it SHOULD "
     "wait until it receives the reply (even if there was an error response to a previous command).",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.session.quit-wait", "RFC 5321 §4.1.1.10",
     "The sender MUST NOT intentionally close the transmission channel until it sends a QUIT command, and it SHOULD "
     "wait until it receives the reply (even if there was an error response to a previous command).",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.command.unknown", "RFC 5321 §2.2.2",
     "Additional verbs and parameter names are bound by the same rules as EHLO keywords; specifically, verbs beginning "
     "with \"X\" are local extensions that may not be registered or standardized. Conversely, verbs not beginning with "
     "\"X\" must always be registered.",
     "SHOULD: smtpkit knows the registered verbs it parses and those of advertised extensions, not every registered "
     "one.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.command.private", "RFC 5321 §4.1.5",
     "As specified in Section 2.2.2, commands starting in \"X\" may be used by bilateral agreement between the client "
     "(sending) and server (receiving) SMTP agents.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.param.unadvertised", "RFC 5321 §4.1.1.3",
     "The client MUST NOT transmit parameters other than those associated with a service extension offered by the "
     "server in its EHLO response.",
     "MAIL, §4.1.1.2: \"If service extensions were negotiated, the MAIL command may also carry parameters associated "
     "with a particular service extension.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.param.unknown", "RFC 5321 §4.1.1.11",
     "If the server SMTP does not recognize or cannot implement one or more of the parameters associated with a "
     "particular MAIL FROM or RCPT TO command, it will return code 555.",
     "ADVICE: whether an unknown parameter's extension was advertised cannot be told.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.extension.unadvertised", "RFC 3207 §3",
     "The STARTTLS keyword is used to tell the SMTP client that the SMTP server is currently able to negotiate the use "
     "of TLS.",
     "ADVICE: neither RFC 3207 nor RFC 4954 forbids a client to try STARTTLS or AUTH unadvertised; the reply tells it. "
     "BDAT is client.bdat.unadvertised.",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"client.size.over-limit", "RFC 1870 §4",
     "If a numeric parameter follows the SIZE keyword value of the EHLO response, it indicates the size of the largest "
     "message that the server is willing to accept. Any attempt by a client to transfer a message which is larger than "
     "this limit will be rejected with a permanent failure (552) reply code.",
     "ADVICE: a consequence for the client, not a requirement on it.",
     "RFC 1870: errata not retrieved by this audit; read as published"},
    {"client.smtputf8.not-requested", "RFC 6531 §3.4", "",
     "The SMTPUTF8 parameter on MAIL is how a client says the envelope holds UTF-8 addresses; without it the server "
     "reads the envelope as ASCII (RFC 5321 §2.4: \"a sending SMTP system is not permitted to send envelope commands "
     "in any character set other than US-ASCII\").",
     "RFC 6531: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"client.data.eight-bit", "RFC 5321 §2.4",
     "An originating SMTP client that has not successfully negotiated an appropriate extension with a particular "
     "server (see the next paragraph) MUST NOT transmit messages with information in the high-order bit of octets.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.binarymime", "RFC 3030 §3",
     "BINARYMIME cannot be used with the DATA command. If a DATA command is issued after a MAIL command containing the "
     "body-value of \"BINARYMIME\", a 503 \"Bad sequence of commands\" response MUST be sent.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"client.bdat.mixed-with-data", "RFC 3030 §2",
     "DATA and BDAT commands cannot be used in the same transaction. If a DATA statement is issued after a BDAT for "
     "the current transaction, a 503 \"Bad sequence of commands\" MUST be issued.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"client.bdat.after-last", "RFC 3030 §2",
     "Any BDAT command sent after the BDAT LAST is illegal and MUST be replied to with a 503 \"Bad sequence of "
     "commands\" reply code.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"client.bdat.unadvertised", "RFC 3030 §2",
     "Because the receiver-SMTP does not acknowledge the BDAT command before the message data is sent, it is important "
     "to send the BDAT only to systems that have declared their capability to accept BDAT commands. Illegally sending "
     "a BDAT command and associated message data to a non-CHUNKING capable system will result in the receiver-SMTP "
     "parsing the associated message data as if it were a potentially very long, ESMTP command line containing binary "
     "data.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"client.bdat.after-failure", "RFC 3030 §2",
     "If a 5XX or 4XX code is received by the sender-SMTP in response to a BDAT chunk, the transaction should be "
     "considered failed and the sender-SMTP MUST NOT send any additional BDAT segments.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"client.starttls.pipelined", "RFC 3207 §4",
     "After receiving a 220 response to a STARTTLS command, the client MUST start the TLS negotiation before giving "
     "any other SMTP commands.",
     "", "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"client.starttls.in-tls", "RFC 3207 §4.2",
     "A client MUST NOT attempt to start a TLS session if a TLS session is already active.", "",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"client.starttls.ehlo-first", "RFC 3207 §4.2",
     "The client SHOULD send an EHLO command as the first command after a successful TLS negotiation.", "",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"client.starttls.injected-reply", "RFC 3207 §4.2",
     "The client MUST discard any knowledge obtained from the server, such as the list of SMTP service extensions, "
     "which was not obtained from the TLS negotiation itself.",
     "", "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"client.auth.in-transaction", "RFC 4954 §4",
     "The AUTH command is not permitted during a mail transaction. An AUTH command issued during a mail transaction "
     "MUST be rejected with a 503 reply.",
     "", "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"client.auth.twice", "RFC 4954 §4",
     "After an AUTH command has been successfully completed, no more AUTH commands may be issued in the same session. "
     "After a successful AUTH command completes, a server MUST reject any further AUTH commands with a 503 reply.",
     "", "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"client.auth.mechanism-unadvertised", "RFC 4954 §3", "",
     "The AUTH EHLO keyword's parameter is the list of SASL mechanisms the server supports; a mechanism outside it "
     "gets 504. SHOULD kept: the list is the server's statement of what it accepts.",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"client.auth.plaintext", "RFC 4954 §4", "",
     "ADVICE: whether a password mechanism may be used without TLS is the server's policy (it answers 538 when it "
     "requires encryption); no sentence binds the client.",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"client.domain.unqualified", "RFC 5321 §2.3.5",
     "Only resolvable, fully-qualified domain names (FQDNs) are permitted when domain names are used in SMTP. [...] "
     "Local nicknames or unqualified names MUST NOT be used.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.line.too-long", "RFC 5321 §4.5.3.1", "Objects larger than these sizes SHOULD be avoided when possible.",
     "§4.5.3.1.4: \"The maximum total length of a command line including the command word and the <CRLF> is 512 "
     "octets. SMTP extensions may be used to increase this limit.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.greeting.code", "RFC 5321 §4.3.2", "",
     "CONNECTION ESTABLISHMENT S: 220 E: 554 (and §3.8: a 421 \"can be issued after the server receives any command "
     "or, if necessary, asynchronously\")",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.domain.unqualified", "RFC 5321 §4.3.1",
     "Note: all the greeting-type replies have the official name (the fully-qualified primary domain name) of the "
     "server host as the first word following the reply code.",
     "§2.3.5: \"Local nicknames or unqualified names MUST NOT be used.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.unsolicited", "RFC 5321 §4.2", "Every command MUST generate exactly one reply.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.missing", "RFC 5321 §4.2", "Every command MUST generate exactly one reply.",
     "Not when the last reply was a 5yz after three of them or ten replies in all, or a 221 (the server said it is "
     "closing): RFC 5321 §7.8 lets a server "
     "defend itself and \"close the connection after generating an appropriate number of 5yz (normally 550) "
     "replies\". Nor when the command left unanswered is a line longer than §4.5.3.1.4 allows: the client broke "
     "the limit first, and a server may drop a connection that floods it.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.unexpected-code", "RFC 5321 §4.3.1",
     "The table below lists alternative success and failure replies for each command. These SHOULD be strictly adhered "
     "to.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.intermediate", "RFC 5321 §4.3.1",
     "A receiver MAY substitute text in the replies, but the meanings and actions implied by the code numbers and by "
     "the specific command reply sequence MUST be preserved.",
     "§4.2.1: 3yz \"is used in command sequence groups (i.e., in DATA)\"; RFC 4954 §4 adds 334.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.unknown-command", "RFC 5321 §4.2.4",
     "502 SHOULD be used when the command is actually recognized by the SMTP server, but not implemented. If the "
     "command is not recognized, code 500 SHOULD be returned.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.reply.bare-code", "RFC 5321 §4.2",
     "An SMTP client MUST determine its actions only by the reply code, not by the text [...]; in the general case, "
     "any text, including no text at all (although senders SHOULD NOT send bare codes), MUST be acceptable.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.ehlo.unsupported", "RFC 5321 §2.2.1",
     "Contemporary SMTP implementations MUST support the basic extension mechanisms. For instance, servers MUST "
     "support the EHLO command even if they do not implement any specific extensions [...].",
     "§4.1.1.1: \"If the SMTP server, in violation of this specification, does not support any SMTP service "
     "extensions, it will generate an error response\"; §4.3.2 permits 502 \"only with an old-style server that does "
     "not support EHLO\".",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.command.unsupported", "RFC 5321 §4.5.1",
     "In order to make SMTP workable, the following minimum implementation MUST be provided by all receivers. The "
     "following commands MUST be supported to conform to this specification: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
     "VRFY",
     "§4.3.2: \"producing a \"command not recognized\" error in response to the required subset of these commands is a "
     "violation of this specification\". VRFY aside: §4.3.2 lists 502 for it; RSET, NOOP, QUIT have rules of their "
     "own.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.helo.extended-response", "RFC 5321 §3.2",
     "Servers MUST NOT return the extended EHLO-style response to a HELO command.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.greeting.refused-reply", "RFC 5321 §3.1",
     "A server taking this approach MUST still wait for the client to send a QUIT (see Section 4.1.1.10) before "
     "closing the connection and SHOULD respond to any intervening commands with \"503 bad sequence of commands\".",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.sequence.before-ehlo", "RFC 5321 §4.1.4",
     "SMTP servers SHOULD process these normally (that is, not return a 503 code) even if no EHLO command has yet been "
     "received",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.quit.reply", "RFC 5321 §4.1.1.10",
     "This command specifies that the receiver MUST send a \"221 OK\" reply, and then close the transmission channel.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.quit.close", "RFC 5321 §4.1.1.10",
     "This command specifies that the receiver MUST send a \"221 OK\" reply, and then close the transmission channel.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.rset.reply", "RFC 5321 §4.1.1.5",
     "The receiver MUST send a \"250 OK\" reply to a RSET command with no arguments.", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.noop.reply", "RFC 5321 §4.1.1.9",
     "It specifies no action other than that the receiver send a \"250 OK\" reply. [...] If a parameter string is "
     "specified, servers SHOULD ignore it.",
     "No keyword binds the first sentence; SHOULD, the section's own.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.421.close", "RFC 5321 §4.3.1",
     "A receiver MAY substitute text in the replies, but the meanings and actions implied by the code numbers and by "
     "the specific command reply sequence MUST be preserved.",
     "421: \"Service not available, closing transmission channel\", §4.2.2.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.sequence.rcpt-without-mail", "RFC 5321 §3.3",
     "If a RCPT command appears without a previous MAIL command, the server MUST return a 503 \"Bad sequence of "
     "commands\" response.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.sequence.data-without-rcpt", "RFC 5321 §3.3",
     "If there was no MAIL, or no RCPT, command, or all such commands were rejected, the server MAY return a \"command "
     "out of sequence\" (503) or \"no valid recipients\" (554) reply in response to the DATA command. [...] If the "
     "verb is initially accepted and the 354 reply issued, the DATA command should fail only if the mail transaction "
     "was incomplete (for example, no recipients)",
     "ADVICE: MAY.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.sequence.nested-mail", "RFC 5321 §4.1.4",
     "If the commands in a transaction are out of order to the degree that they cannot be processed by the server, a "
     "503 failure reply MUST be returned and the SMTP server MUST stay in the same state.",
     "\"MAIL [...] MUST NOT be sent if a mail transaction is already open.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.sequence.bdat-mixed", "RFC 3030 §2",
     "Any BDAT command sent after the BDAT LAST is illegal and MUST be replied to with a 503 \"Bad sequence of "
     "commands\" reply code. [...] If a DATA statement is issued after a BDAT for the current transaction, a 503 \"Bad "
     "sequence of commands\" MUST be issued.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"server.sequence.binarymime-data", "RFC 3030 §3",
     "If a DATA command is issued after a MAIL command containing the body-value of \"BINARYMIME\", a 503 \"Bad "
     "sequence of commands\" response MUST be sent.",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"server.syntax.accepted", "RFC 5321 §4.1.2", "",
     "ADVICE: §4.1.2 holds the ABNF; no sentence asks a server to refuse a line it can read (§2.4: \"the grammar "
     "expressed in the metalanguage is not comprehensive\"). What RFC 5321 does ask is server.syntax.invalid-character "
     "and server.syntax.argument-accepted.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.syntax.invalid-character", "RFC 5321 §4.1.2",
     "SMTP servers that receive a command in which invalid character codes have been employed, and for which there are "
     "no other reasons for rejection, MUST reject that command with a 501 response (this rule, like others, could be "
     "overridden by appropriate SMTP extensions).",
     "§2.4 on 8-bit: \"Receiving systems SHOULD reject such commands\".",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.syntax.argument-accepted", "RFC 5321 §4.1.1",
     "Several commands (RSET, DATA, QUIT) are specified as not permitting parameters. In the absence of specific "
     "extensions offered by the server and accepted by the client, clients MUST NOT send such parameters and servers "
     "SHOULD reject commands containing them as having invalid syntax.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.size.over-limit-accepted", "RFC 1870 §7",
     "Such a server must accept the extended MAIL command and return a 552 reply code if the client's declared size "
     "exceeds its fixed size limit (if any)",
     "§6.1: \"If the indicated size is larger than the server's fixed maximum message size, the server responds with "
     "code \"552 message size exceeds fixed maximium message size\"\".",
     "RFC 1870: errata not retrieved by this audit; read as published"},
    {"server.line.bare-lf-accepted", "RFC 5321 §2.3.8",
     "Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line "
     "terminator.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.data.eod-variant-accepted", "RFC 5321 §4.1.1.4",
     "In particular, the sequence \"<LF>.<LF>\" (bare line feeds, without carriage returns) MUST NOT be treated as "
     "equivalent to <CRLF>.<CRLF> as the end of mail data indication.",
     "§2.3.8: \"Conforming implementations MUST NOT recognize or generate any other character or character sequence as "
     "a line terminator.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.data.early-reply", "RFC 5321 §4.1.1.4",
     "The mail data are terminated by a line containing only a period, that is, the character sequence "
     "\"<CRLF>.<CRLF>\" [...] Receipt of the end of mail data indication requires the server to process the stored "
     "mail transaction information.",
     "§4.2: \"Every command MUST generate exactly one reply\".",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.line.too-long", "RFC 5321 §4.5.3.1", "Objects larger than these sizes SHOULD be avoided when possible.",
     "§4.5.3.1.5: \"The maximum total length of a reply line including the reply code and the <CRLF> is 512 octets.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.ehlo.keyword-unregistered", "RFC 5321 §2.2.2",
     "Conversely, keyword values presented in the EHLO response that do not begin with \"X\" MUST correspond to a "
     "Standard, Standards-Track, or IESG-approved Experimental SMTP service extension registered with IANA. A "
     "conforming server MUST NOT offer non-\"X\"-prefixed keyword values that are not described in a registered "
     "extension.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.ehlo.smtputf8-without-8bitmime", "RFC 6531 §3.1",
     "Servers offering this extension MUST provide support for, and announce, the 8BITMIME extension [RFC6152].", "",
     "RFC 6531: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"server.ehlo.listed-not-implemented", "RFC 5321 §4.2.4",
     "Extended SMTP systems MUST NOT list capabilities in response to EHLO for which they will return 502 (or 500) "
     "replies.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.ehlo.command-unlisted", "RFC 5321 §4.1.1.1",
     "The EHLO response MUST contain keywords (and associated parameters if required) for all commands not listed as "
     "\"required\" in Section 4.5.1 excepting only private-use commands as described in Section 4.1.5.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.esc.missing", "RFC 2034 §4", "",
     "Once the ENHANCEDSTATUSCODES extension has been requested [...] the server returns enhanced status codes in all "
     "replies except the greeting and the reply to EHLO/HELO (RFC 2034 predates RFC 2119; its \"must\" read as MUST).",
     "RFC 2034: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"server.esc.class", "RFC 3463 §3.1", "",
     "The class sub-code of the enhanced status code agrees with the reply code: 2.X.X Success, 4.X.X Persistent "
     "Transient Failure, 5.X.X Permanent Failure (RFC 2034 §4 says the status code prefixes the text of every reply).",
     "RFC 3463: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"server.esc.syntax", "RFC 3463 §2", "",
     "status-code = class \".\" subject \".\" detail; subject = \"0\"/(\"1\" 2digit); detail = \"0\"/(\"1\" 3digit) "
     "... (no leading zeros).",
     "RFC 3463: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"server.esc.unadvertised", "RFC 2034 §3", "",
     "ADVICE: RFC 2034 says when enhanced codes are required, not that they are forbidden before the keyword; they "
     "harm nobody.",
     "RFC 2034: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"server.starttls.data-after-220", "RFC 3207 §4",
     "After receiving a 220 response to a STARTTLS command, the client MUST start the TLS negotiation before giving "
     "any other SMTP commands.",
     "The next octets on the wire are the handshake; a line from the server there is a reply to no command: RFC 5321 "
     "§4.2, \"Every command MUST generate exactly one reply\".",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"server.starttls.injection", "RFC 3207 §4.2",
     "The server MUST discard any knowledge obtained from the client, such as the argument to the EHLO command, which "
     "was not obtained from the TLS negotiation itself.",
     "§6: \"clients and servers MUST discard any knowledge obtained prior to the start of the TLS handshake upon "
     "completion of the TLS handshake\".",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"server.starttls.readvertised", "RFC 3207 §4.2",
     "A server MUST NOT return the STARTTLS extension in response to an EHLO command received after a TLS handshake "
     "has completed.",
     "", "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"server.starttls.second", "RFC 3207 §4.2",
     "Both the client and the server MUST know if there is a TLS session active. A client MUST NOT attempt to start a "
     "TLS session if a TLS session is already active.",
     "No sentence says what the server answers; SHOULD: a 220 inside TLS acts as if no session were active.",
     "RFC 3207: RFC 7817 updates §4.1 only (server identity); errata not retrieved by this audit"},
    {"server.auth.challenge", "RFC 4954 §4",
     "A server challenge is sent as a 334 reply with the text part containing the [BASE64] encoded string supplied by "
     "the SASL mechanism. This challenge MUST NOT contain any text other than the BASE64 encoded challenge.",
     "", "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"server.auth.cancel", "RFC 4954 §4",
     "If the client wishes to cancel the authentication exchange, it issues a line with a single \"*\". If the server "
     "receives such a response, it MUST reject the AUTH command by sending a 501 reply.",
     "", "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"server.auth.twice", "RFC 4954 §4",
     "After a successful AUTH command completes, a server MUST reject any further AUTH commands with a 503 reply.", "",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"server.auth.in-transaction", "RFC 4954 §4",
     "An AUTH command issued during a mail transaction MUST be rejected with a 503 reply.", "",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"server.limits.recipients", "RFC 5321 §4.5.3.1.8",
     "The minimum total number of recipients that MUST be buffered is 100 recipients. Rejection of messages (for "
     "excessive recipients) with fewer than 100 RCPT commands is a violation of this specification.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.limits.recipients-code", "RFC 5321 §4.5.3.1.10",
     "If an SMTP server has an implementation limit on the number of RCPT commands and this limit is exhausted, it "
     "MUST use a response code of 452 [...]. If the server has a configured site-policy limitation on the number of "
     "RCPT commands, it MAY instead use a 5yz response code.",
     "ADVICE: a dialogue cannot tell an implementation limit from a policy.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.postmaster.rejected", "RFC 5321 §4.5.1",
     "The requirement to accept mail for postmaster implies that RCPT commands that specify a mailbox for postmaster "
     "at any of the domains for which the SMTP server provides mail service, as well as the special case of \"RCPT "
     "TO:<Postmaster>\" (with no domain specification), MUST be supported.",
     "Which domains a server provides mail service for, a dialogue shows only by a recipient the server accepted "
     "there: postmaster at such a domain is judged, postmaster at any other is not (a server that is no relay refuses "
     "it rightly).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"server.session.closed", "RFC 5321 §3.8",
     "An SMTP server MUST NOT intentionally close the connection under normal operational circumstances (see Section "
     "7.8) except: After receiving a QUIT command and responding with a 221 reply. After detecting the need to shut "
     "down the SMTP service and returning a 421 response code. [...] After a timeout [...]",
     "Not when the last reply was a 5yz after three of them or ten replies in all, or a 221 (the server said it is "
     "closing): the exception of §7.8 (\"close "
     "the connection after generating an appropriate number of 5yz (normally 550) replies\").",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"line.bare-cr", "RFC 5321 §2.3.8",
     "Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line "
     "terminator. [...] SMTP client implementations MUST NOT transmit these characters except when they are intended "
     "as line terminators and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"line.bare-lf", "RFC 5321 §2.3.8",
     "Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line "
     "terminator. [...] SMTP client implementations MUST NOT transmit these characters except when they are intended "
     "as line terminators and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"line.nul", "RFC 5321 §4.1.2",
     "Systems MUST NOT define mailboxes in such a way as to require the use in SMTP of non-ASCII characters (octets "
     "with the high order bit set to one) or ASCII \"control characters\" (decimal value 0-31 and 127). These "
     "characters MUST NOT be used in MAIL or RCPT commands or other commands that require mailbox names.",
     "Replies: textstring = 1*(%d09 / %d32-126) (§4.2) has no NUL. Commands: no production of §4.1.2 admits it.",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"line.control", "RFC 5321 §4.1.2",
     "These characters MUST NOT be used in MAIL or RCPT commands or other commands that require mailbox names.",
     "Replies: textstring = 1*(%d09 / %d32-126) (§4.2) admits HT only. Commands: no production of §4.1.2 admits a "
     "control character.",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"command.empty", "RFC 5321 §4.1.1",
     "SMTP commands are character strings terminated by <CRLF>. The commands themselves are alphabetic characters "
     "terminated by <SP> if parameters follow and <CRLF> otherwise.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"command.missing-argument", "RFC 5321 §4.1.1",
     "The commands themselves are alphabetic characters terminated by <SP> if parameters follow and <CRLF> otherwise.",
     "The ABNF of the command requires its argument: vrfy = \"VRFY\" SP String CRLF, ehlo = \"EHLO\" SP ( Domain / "
     "address-literal ) CRLF, ...",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"command.unexpected-argument", "RFC 5321 §4.1.1",
     "Several commands (RSET, DATA, QUIT) are specified as not permitting parameters. In the absence of specific "
     "extensions offered by the server and accepted by the client, clients MUST NOT send such parameters and servers "
     "SHOULD reject commands containing them as having invalid syntax.",
     "STARTTLS: RFC 3207 §4, \"STARTTLS with no parameters\".",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"command.trailing-space", "RFC 5321 §4.1.1",
     "(In the interest of improved interoperability, SMTP receivers SHOULD tolerate trailing white space before the "
     "terminating <CRLF>.)",
     "The ABNF has no white space before CRLF; the prose asks receivers to tolerate it, so a server that accepts it is "
     "not faulted, and a client that sends it still breaks the grammar.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"command.extra-space", "RFC 5321 §2.4",
     "In both cases, where text appears, it is separated from the verb or reply code by a space character.",
     "Every production of §4.1.1-4.1.2 separates by a single SP.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"mail.from", "RFC 5321 §4.1.1.2", "mail = \"MAIL FROM:\" Reverse-path [SP Mail-parameters] CRLF", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"rcpt.to", "RFC 5321 §4.1.1.3",
     "rcpt = \"RCPT TO:\" ( \"<Postmaster@\" Domain \">\" / \"<Postmaster>\" / Forward-path ) [SP Rcpt-parameters] "
     "CRLF",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"path.space-after-colon", "RFC 5321 §3.3",
     "Since it has been a common source of errors, it is worth noting that spaces are not permitted on either side of "
     "the colon following FROM in the MAIL command or TO in the RCPT command. The syntax is exactly as given above.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"command.string", "RFC 5321 §4.1.2", "String = Atom / Quoted-string",
     "Applies to HELP and NOOP (\"help = \"HELP\" [ SP String ] CRLF\"). VRFY and EXPN take any printable string: "
     "§3.5.1, \"The character string arguments of the VRFY and EXPN commands cannot be further restricted\", and hosts "
     "\"SHOULD accept the \"local-part@domain\" form\".",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"helo.address-literal", "RFC 5321 §4.1.1.1", "helo = \"HELO\" SP Domain CRLF",
     "EHLO takes ( Domain / address-literal ); HELO only a Domain.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"path.open", "RFC 5321 §4.1.2", "Path = \"<\" [ A-d-l \":\" ] Mailbox \">\"",
     "§3.3: the forward-path is \"always surrounded by \"<\" and \">\" brackets\".",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"path.close", "RFC 5321 §4.1.2", "Path = \"<\" [ A-d-l \":\" ] Mailbox \">\"", "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"path.source-route", "RFC 5321 §4.1.2",
     "A-d-l = At-domain *( \",\" At-domain ) ; Note that this form, the so-called \"source route\", MUST BE accepted, "
     "SHOULD NOT be generated, and SHOULD be ignored.",
     "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"path.length", "RFC 5321 §4.5.3.1.3",
     "The maximum total length of a reverse-path or forward-path is 256 octets (including the punctuation and element "
     "separators).",
     "§4.5.3.1: \"Objects larger than these sizes SHOULD be avoided when possible.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"mailbox.missing-at", "RFC 5321 §4.1.2", "Mailbox = Local-part \"@\" ( Domain / address-literal )",
     "\"<Postmaster>\" is the one forward-path without a domain (§4.1.1.3).",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"local-part.syntax", "RFC 5321 §4.1.2",
     "Local-part = Dot-string / Quoted-string ; MAY be case-sensitive / Dot-string = Atom *(\".\" Atom)", "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"local-part.quoted", "RFC 5321 §4.1.2", "Quoted-string = DQUOTE *QcontentSMTP DQUOTE", "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"local-part.length", "RFC 5321 §4.5.3.1.1",
     "The maximum total length of a user name or other local-part is 64 octets.",
     "§4.5.3.1: \"Objects larger than these sizes SHOULD be avoided when possible.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"domain.empty", "RFC 5321 §4.1.2", "Domain = sub-domain *(\".\" sub-domain)", "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"domain.syntax", "RFC 5321 §4.1.2",
     "characters outside the set of alphabetic characters, digits, and hyphen MUST NOT appear in domain name labels "
     "for SMTP clients or servers. In particular, the underscore character is not permitted.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"domain.hyphen", "RFC 5321 §4.1.2",
     "sub-domain = Let-dig [Ldh-str] / Ldh-str = *( ALPHA / DIGIT / \"-\" ) Let-dig", "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"domain.label-length", "RFC 1035 §2.3.4", "labels 63 octets or less",
     "A limit of the name itself, not of SMTP: MUST.", "RFC 1035: errata not retrieved by this audit"},
    {"domain.length", "RFC 5321 §4.5.3.1.2", "The maximum total length of a domain name or number is 255 octets.",
     "§4.5.3.1: \"Objects larger than these sizes SHOULD be avoided when possible.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"address-literal.syntax", "RFC 5321 §4.1.3",
     "address-literal = \"[\" ( IPv4-address-literal / IPv6-address-literal / General-address-literal ) \"]\"", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"address-literal.ipv4", "RFC 5321 §4.1.3",
     "IPv4-address-literal = Snum 3(\".\" Snum) / Snum = 1*3DIGIT ; representing a decimal integer value in the range "
     "0 through 255",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"address-literal.ipv6", "RFC 5321 §4.1.3",
     "IPv6-address-literal = \"IPv6:\" IPv6-addr / IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"address-literal.general", "RFC 5321 §4.1.3", "General-address-literal = Standardized-tag \":\" 1*dcontent", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"smtputf8.eight-bit", "RFC 5321 §2.4",
     "In the absence of a server-offered extension explicitly permitting it, a sending SMTP system is not permitted to "
     "send envelope commands in any character set other than US-ASCII. Receiving systems SHOULD reject such commands, "
     "normally using \"500 syntax error - invalid character\" replies.",
     "RFC 6531 (SMTPUTF8) is the extension that permits it.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"smtputf8.invalid-utf8", "RFC 6531 §3.3", "UTF8-non-ascii",
     "RFC 6531 extends atext, qtextSMTP, esmtp-value and sub-domain with UTF8-non-ascii (RFC 6532 §3.1, RFC 3629 §4): "
     "only well-formed UTF-8.",
     "RFC 6531: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"param.syntax", "RFC 5321 §4.1.2",
     "esmtp-param = esmtp-keyword [\"=\" esmtp-value] / esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / \"-\") / "
     "esmtp-value = 1*(%d33-60 / %d62-126)",
     "",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"param.duplicate", "RFC 1870 §6", "Only one SIZE parameter may be specified in a single MAIL command.",
     "Likewise one BODY, RET, ENVID, NOTIFY, ORCPT, AUTH, MT-PRIORITY: each defining RFC gives one value per command.",
     "RFC 1870: errata not retrieved by this audit; read as published"},
    {"param.misplaced", "RFC 5321 §4.1.1.11",
     "Errors specific to particular parameters and their values will be specified in the parameter's defining RFC.",
     "Each extension names the command its parameter goes with (SIZE, BODY, RET, ENVID, AUTH on MAIL; NOTIFY, ORCPT on "
     "RCPT).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"param.value-missing", "RFC 5321 §4.1.2", "esmtp-param = esmtp-keyword [\"=\" esmtp-value]",
     "The value is required by the parameter's own RFC (size-param = \"SIZE=\" size-value, ...).",
     "RFC 5321 erratum 2578 (verified, editorial): the terminals ALPHA, DIGIT, SP, CRLF are RFC 5234 Appendix B's core "
     "rules; the production stands"},
    {"param.value-unexpected", "RFC 6531 §3.4", "",
     "The SMTPUTF8 parameter takes no value (REQUIRETLS likewise, RFC 8689). Text not retrieved in this audit.",
     "RFC 6531: errata not retrieved by this audit; the text is summarised, not quoted"},
    {"param.size", "RFC 1870 §3", "size-value ::= 1*20DIGIT", "",
     "RFC 1870: errata not retrieved by this audit; read as published"},
    {"param.body", "RFC 3030 §3", "body-value ::= \"7BIT\" / \"8BITMIME\" / \"BINARYMIME\"",
     "RFC 6152 §2 defines 7BIT and 8BITMIME.", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"param.ret", "RFC 3461 §4.3", "ret-value = \"FULL\" / \"HDRS\"", "",
     "RFC 3461: errata not retrieved by this audit; production as in fuzz/reference/smtp.abnf"},
    {"param.envid", "RFC 3461 §4.4", "envid-parameter = \"ENVID=\" xtext (at most 100 characters)", "",
     "RFC 3461: errata not retrieved by this audit; production as in fuzz/reference/smtp.abnf"},
    {"param.notify", "RFC 3461 §4.1",
     "notify-esmtp-value = \"NEVER\" / 1#notify-list-element; notify-list-element = \"SUCCESS\" / \"FAILURE\" / "
     "\"DELAY\"",
     "", "RFC 3461: errata not retrieved by this audit; production as in fuzz/reference/smtp.abnf"},
    {"param.orcpt", "RFC 3461 §4.2",
     "orcpt-parameter = \"ORCPT=\" original-recipient-address; original-recipient-address = addr-type \";\" xtext", "",
     "RFC 3461: errata not retrieved by this audit; production as in fuzz/reference/smtp.abnf"},
    {"param.auth", "RFC 4954 §5", "auth-param = \"AUTH=\" xtext", "",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"param.mt-priority", "RFC 6710 §7", "",
     "priority-value = %x2D \"9\" / ... / \"9\" (an integer from -9 to 9) Text not retrieved verbatim in this audit.",
     "RFC 6710: errata not retrieved by this audit"},
    {"auth.mechanism", "RFC 4954 §4",
     "sasl-mech = 1*20mech-char / mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE (RFC 4422 §3.1)", "",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"auth.initial-response", "RFC 4954 §4",
     "initial-response: An optional initial client response. If present, this response MUST be encoded as described in "
     "Section 4 of [BASE64] or contain a single character \"=\".",
     "", "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"auth.response", "RFC 4954 §4",
     "If the client wishes to cancel the authentication exchange, it issues a line with a single \"*\".",
     "The other responses are base64 (RFC 4954 §4: \"continue-req\", client responses encoded with base64).",
     "RFC 4954: verified erratum 5224 (editorial: §4's SASL reference is RFC 2222 §5.1) does not touch this rule"},
    {"bdat.size", "RFC 3030 §2", "bdat-cmd ::= \"BDAT\" SP chunk-size [ SP end-marker ] CR LF / chunk-size ::= 1*DIGIT",
     "", "RFC 3030: errata not retrieved by this audit; read as published"},
    {"bdat.last", "RFC 3030 §2", "end-marker ::= \"LAST\"", "",
     "RFC 3030: errata not retrieved by this audit; read as published"},
    {"input.trailing", "RFC 5321 §4.1.1", "SMTP commands are character strings terminated by <CRLF>.",
     "Octets after a complete element match no production.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"reply.empty", "RFC 5321 §4.2",
     "Reply-line = *( Reply-code \"-\" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF", "",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.code", "RFC 5321 §4.2", "Reply-code = %x32-35 %x30-35 %x30-39",
     "§4.2: \"In the absence of extensions negotiated with the client, SMTP servers MUST NOT send reply codes whose "
     "first digits are other than 2, 3, 4, or 5.\"",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.separator", "RFC 5321 §4.2",
     "Reply-line = *( Reply-code \"-\" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF", "",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.text", "RFC 5321 §4.2", "textstring = 1*(%d09 / %d32-126) ; HT, SP, Printable US-ASCII",
     "RFC 6531 §3.7.4 allows UTF-8 in replies under SMTPUTF8.",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.code-mismatch", "RFC 5321 §4.2",
     "Reply-line = *( Reply-code \"-\" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF",
     "§4.2.1: in a multiline reply \"the reply code on each line is the same\".",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.incomplete", "RFC 5321 §4.2",
     "Reply-line = *( Reply-code \"-\" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF",
     "The last line has SP (or nothing) after the code, never \"-\".",
     "RFC 5321 erratum 4198 (verified): it is the sender-SMTP, the client, that SHOULD test a reply's first digit; the "
     "engine reads an unreadable code by its first digit as a client would"},
    {"reply.line-ending", "RFC 5321 §2.3.8",
     "Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line "
     "terminator.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"ehlo-reply.domain", "RFC 5321 §4.1.1.1",
     "ehlo-ok-rsp = ( \"250\" SP Domain [ SP ehlo-greet ] CRLF ) / ( \"250-\" Domain [ SP ehlo-greet ] CRLF *( "
     "\"250-\" ehlo-line CRLF ) \"250\" SP ehlo-line CRLF )",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"ehlo-reply.keyword", "RFC 5321 §4.1.1.1", "ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / \"-\")", "",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"ehlo-reply.param", "RFC 5321 §4.1.1.1",
     "ehlo-param = 1*(%d33-126) ; any CHAR excluding <SP> and all control characters (US-ASCII 0-31 and 127 inclusive)",
     "and the extension's own syntax: \"additional syntax of ehlo-params depends on ehlo-keyword\" (SIZE: size-param "
     "::= [1*DIGIT], RFC 1870 §3).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"greeting.domain", "RFC 5321 §4.2",
     "Greeting = ( \"220 \" (Domain / address-literal) [ SP textstring ] CRLF ) / ...",
     "§4.3.1: \"all the greeting-type replies have the official name (the fully-qualified primary domain name) of the "
     "server host as the first word following the reply code\".",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.bare-cr", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.bare-lf", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "", "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.nul", "RFC 5321 §4.1.1.4",
     "The mail data may contain any of the 128 ASCII character codes, although experience has indicated that use of "
     "control characters other than SP, HT, CR, and LF may cause problems and SHOULD be avoided when possible.",
     "SHOULD: RFC 5322's body grammar leaves NUL out, but SMTP's own text lets the data carry it.",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.line-too-long", "RFC 5321 §4.5.3.1.6",
     "The maximum total length of a text line including the <CRLF> is 1000 octets (not counting the leading dot "
     "duplicated for transparency).",
     "§4.5.3.1: \"Objects larger than these sizes SHOULD be avoided when possible.\"",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.lf-dot-lf", "RFC 5321 §4.1.1.4",
     "In particular, the sequence \"<LF>.<LF>\" (bare line feeds, without carriage returns) MUST NOT be treated as "
     "equivalent to <CRLF>.<CRLF> as the end of mail data indication.",
     "The client's breach is the bare LF (§2.3.8: \"SMTP client implementations MUST NOT transmit these characters "
     "except when they are intended as line terminators\"); receivers differ on where such data ends (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.lf-dot-crlf", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare LF before \".\" makes a sequence receivers may take for the end of data (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.lf-dot-cr", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare LF and a bare CR around \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.crlf-dot-lf", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare LF after \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.crlf-dot-cr", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare CR after \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.cr-dot-cr", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "Bare CRs around \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.cr-dot-lf", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare CR and a bare LF around \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.cr-dot-crlf", "RFC 5321 §2.3.8",
     "SMTP client implementations MUST NOT transmit these characters except when they are intended as line terminators "
     "and then MUST, as indicated above, transmit them only as a <CRLF> sequence.",
     "A bare CR before \".\" (SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
    {"client.data.eod.nul-dot", "RFC 5321 §4.1.1.4",
     "The mail data may contain any of the 128 ASCII character codes, although experience has indicated that use of "
     "control characters other than SP, HT, CR, and LF may cause problems and SHOULD be avoided when possible.",
     "SHOULD: every terminator is CRLF; the NUL before \".\" is what receivers that drop NULs read as the end of data "
     "(SMTP smuggling).",
     "RFC 5321: verified errata 1683 (§4.4), 2578 (§4.1.2), 4198 (§4.2) considered; none touches this text"},
}};

}  // namespace

const grounds* find_grounds(std::string_view id) noexcept {
  for (const auto& g : rows)
    if (g.id == id) return &g;
  return nullptr;
}

}  // namespace smtpkit::conformance
