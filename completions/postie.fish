# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_postie_global_optspecs
    string join \n h/help
end

function __fish_postie_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_postie_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_postie_using_subcommand
    set -l cmd (__fish_postie_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c postie -n "__fish_postie_needs_command" -s h -l help -d 'Print help'
complete -c postie -n "__fish_postie_needs_command" -f -a "send" -d 'Send a message through an SMTP server and print the whole dialogue'
complete -c postie -n "__fish_postie_needs_command" -f -a "mx" -d 'Show where mail for each domain goes (MX hosts and their addresses) without sending any'
complete -c postie -n "__fish_postie_needs_command" -f -a "probe" -d 'Probe every mail server of a domain (or one host) in parallel and report what each says; sends no mail'
complete -c postie -n "__fish_postie_needs_command" -f -a "talk" -d 'Talk to a server yourself: type SMTP commands and see every reply (or pipe them in, one per line)'
complete -c postie -n "__fish_postie_needs_command" -f -a "script" -d 'Run a scripted dialogue (see docs/script.md): exit 0 when every expectation holds, 1 at the first that fails'
complete -c postie -n "__fish_postie_needs_command" -f -a "smuggle" -d 'Test a server for SMTP smuggling: send each end-of-data variant of the 2023 research in one DATA, followed by a smuggled transaction, and report which variants the server treats as the end'
complete -c postie -n "__fish_postie_needs_command" -f -a "load" -d 'Send many messages to one server and measure it: messages per second and each step\'s latency (a load test, as smtp-source does, with pipelining, TLS, AUTH and latency percentiles)'
complete -c postie -n "__fish_postie_needs_command" -f -a "catch" -d 'Be a local SMTP server for testing senders: show every session and message as it arrives, store them if asked, and misbehave on cue (--reply, --delay, --drop). Nothing is ever relayed'
complete -c postie -n "__fish_postie_needs_command" -f -a "sendmail" -d 'Be sendmail for cron and the programs that call it: read a message on stdin and deliver it with the account of the config file, printing nothing on success (also run as a `sendmail` symlink to postie)'
complete -c postie -n "__fish_postie_needs_command" -f -a "config" -d 'The config file: check it and show where each setting comes from'
complete -c postie -n "__fish_postie_needs_command" -f -a "oauth" -d 'OAuth 2.0 for XOAUTH2 and OAUTHBEARER: `postie oauth login` gets a refresh token'
complete -c postie -n "__fish_postie_using_subcommand send" -s s -l server -d 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain\'s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l max-time -d 'One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l resolve -d 'Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl\'s --resolve)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand send" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand send" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand send" -l user -d 'Authenticate as this user (AUTH is used when --user is given)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l auth -d 'The mechanism [default: the strongest both sides have]' -r -f -a "plain\t'RFC 4616: user and password in one base64 message'
login\t'The old two-step user/password exchange'
cram-md5\t'RFC 2195: an HMAC-MD5 of the server\'s challenge; the password itself is never sent'
xoauth2\t'Google and Microsoft\'s OAuth 2.0 bearer token form'
oauthbearer\t'RFC 7628: OAuth 2.0 bearer token'"
complete -c postie -n "__fish_postie_using_subcommand send" -l password-env -d 'Read the password from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l password-file -d 'Read the password from the first line of this file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l password -d 'The password itself. Other users can see it in `ps`: prefer --password-env or --password-file' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l password-command -d 'Run this command with /bin/sh -c and use the first line it prints as the password, as msmtp\'s passwordeval does (e.g. \'pass show mail/work\'); a command that fails stops postie before it connects' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l netrc-file -d 'Read this file instead of ~/.netrc (implies --netrc)' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-token-env -d 'Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-token-file -d 'Read an OAuth 2.0 bearer token from the first line of this file' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-token-url -d 'The provider\'s token endpoint (https://), where a refresh token is exchanged for an access token' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-client-id -d 'The OAuth client id postie is registered as at the provider' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-client-secret -d 'The client secret, if the client has one: env:NAME, file:PATH or command:COMMAND' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-refresh-token -d 'The refresh token: env:NAME, file:PATH or command:COMMAND. With --user, AUTH uses an access token got with it (kept in ~/.cache/postie until it expires); `postie oauth login` writes it to file:PATH' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-device-url -d 'The provider\'s device authorization endpoint (https://), for `postie oauth login`' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l oauth-scope -d 'The scope to ask for (space-separated), e.g. https://mail.google.com/ for Gmail' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l helo -l ehlo -d 'The name to give in EHLO/HELO [default: this machine\'s fully qualified name, or an address literal]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l timeout -d 'Wait at most this long for each reply, instead of RFC 5321\'s per-step limits (5 min, 10 min at the end)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -s f -l from -d 'The sender, for the envelope and the From header: ADDRESS or \'Name <ADDRESS>\'. \'\' means the null sender' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l to -d 'A recipient (repeatable): ADDRESS or \'Name <ADDRESS>\'' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l cc -d 'A copy recipient (repeatable), listed in the Cc header' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l bcc -d 'A blind copy recipient (repeatable): gets the message, never appears in it' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l subject -d 'The Subject header [default: "test" and the date]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l body -d 'The body text, or @FILE to read it from FILE (@- for stdin), as curl\'s -d does [default: stdin when it is not a terminal, else a one-line test body]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l body-file -d 'Read the body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -s H -l header -d 'Add a header, \'Name: value\' (repeatable); it replaces a generated header of the same name' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l html -d 'An HTML body, sent beside the text body as multipart/alternative' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l html-file -d 'Read the HTML body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l attach -d 'Attach a file (repeatable; \'-\' for stdin). Its type is guessed from the name; give it with the file as curl\'s -F does: --attach \'q3.pdf;type=application/pdf;name=Q3 report.pdf\'' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l attach-type -d 'The MIME type of the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l attach-name -d 'The file name shown for the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l reply-to -d 'A Reply-To address (repeatable)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l data -d 'Send this complete RFC 5322 message as it is (\'-\' for stdin), instead of building one' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l sendmail-full-name -d 'Set by `postie sendmail -F NAME`: the full name for a sender that has none' -r
complete -c postie -n "__fish_postie_using_subcommand send" -s o -d 'Accepted for sendmail compatibility: -oi' -r -f -a "i\t''"
complete -c postie -n "__fish_postie_using_subcommand send" -l notify -d 'DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l ret -d 'DSN: return the full message or only its headers in a bounce' -r -f -a "full\t''
hdrs\t''"
complete -c postie -n "__fish_postie_using_subcommand send" -l envid -d 'DSN: an envelope identifier to find in reports' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l quit-after -d 'End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt (`--quit-after rcpt -q; echo $?` tells whether an address is accepted)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand send" -l drop-after -d 'Close the connection without QUIT after this step (the same steps, and data: after the 354)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand send" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand send" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand send" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand send" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand send" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand send" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand send" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand send" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand send" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand send" -s n -l netrc -d 'Take the user (when --user is not given) and the password from ~/.netrc ($NETRC) for the --server host, as curl -n does. With --user and no password, postie looks there too before it asks'
complete -c postie -n "__fish_postie_using_subcommand send" -l allow-plaintext-auth -d 'Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path)'
complete -c postie -n "__fish_postie_using_subcommand send" -l show-secrets -d 'Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand send" -l null-sender -d 'Use the null reverse-path MAIL FROM:<> (as bounces do)'
complete -c postie -n "__fish_postie_using_subcommand send" -s t -l read-recipients -d 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending'
complete -c postie -n "__fish_postie_using_subcommand send" -s i -d 'Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie\'s message'
complete -c postie -n "__fish_postie_using_subcommand send" -l sendmail -d 'Set by `postie sendmail`: complete the message\'s headers as sendmail does (Date, Message-ID, From)'
complete -c postie -n "__fish_postie_using_subcommand send" -l no-pipelining -d 'Send commands one at a time even when the server offers PIPELINING'
complete -c postie -n "__fish_postie_using_subcommand send" -l bdat -d 'Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it'
complete -c postie -n "__fish_postie_using_subcommand send" -l dump -d 'Print the message that would be sent (the envelope goes to stderr) and send nothing'
complete -c postie -n "__fish_postie_using_subcommand send" -l show-data -d 'Print every line of the message in the transcript, not only its size'
complete -c postie -n "__fish_postie_using_subcommand send" -s q -l quiet -d 'Print nothing when every recipient accepted the message; errors still go to stderr'
complete -c postie -n "__fish_postie_using_subcommand send" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand send" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand send" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand send" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand send" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand mx" -l timeout -d 'With --check: wait at most this long for each greeting' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l tls -d 'With --check: implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465]' -r -f -a "auto\t''
implicit\t''"
complete -c postie -n "__fish_postie_using_subcommand mx" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand mx" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand mx" -l check -d 'Also connect to every address, in parallel, and show whether it answers and its greeting'
complete -c postie -n "__fish_postie_using_subcommand mx" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand mx" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand mx" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand mx" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand mx" -l json -d 'Write JSON Lines to stdout: one object per domain (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand mx" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand probe" -l rcpt -d 'Also check that MAIL FROM and RCPT TO this address are accepted (then RSET and QUIT: nothing is sent)' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l from -d 'The sender for --rcpt [default: the null sender <>]' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l helo -d 'The name to give in EHLO [default: this machine\'s fully qualified name]' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable)' -r -F
complete -c postie -n "__fish_postie_using_subcommand probe" -l timeout -d 'Wait at most this long for the greeting and each reply (a slower greeting is reported as a delay)' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l tls -d 'implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465, else STARTTLS]' -r -f -a "auto\t''
implicit\t''"
complete -c postie -n "__fish_postie_using_subcommand probe" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand probe" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand probe" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand probe" -s v -l verbose -d 'Show the whole C:/S: transcript of each host before its report'
complete -c postie -n "__fish_postie_using_subcommand probe" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand probe" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand probe" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand probe" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand probe" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand probe" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand probe" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand talk" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand talk" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand talk" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand talk" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand talk" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l helo -l ehlo -d 'The name for EHLO/LHLO (XCLIENT\'s, and a bare EHLO typed in talk) [default: this machine\'s name]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l timeout -d 'Wait at most this long for each reply [default: RFC 5321\'s per-step limits; 30s in scripts]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand talk" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand talk" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand talk" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand talk" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand talk" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand talk" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand talk" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand talk" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand talk" -l show-secrets -d 'Show what AUTH sends instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand talk" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand talk" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand talk" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand talk" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand talk" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand script" -s s -l server -d 'The server: HOST[:PORT], [ADDRESS]:PORT, or unix:PATH (not with --pipe)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand script" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand script" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand script" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand script" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand script" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand script" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand script" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand script" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l helo -l ehlo -d 'The name for EHLO/LHLO (XCLIENT\'s, and a bare EHLO typed in talk) [default: this machine\'s name]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l timeout -d 'Wait at most this long for each reply [default: RFC 5321\'s per-step limits; 30s in scripts]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand script" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand script" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand script" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand script" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand script" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand script" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand script" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand script" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand script" -l show-secrets -d 'Show what AUTH sends instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand script" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand script" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand script" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand script" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand script" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s f -l from -d 'The sender of the test messages (and of the smuggled ones)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l to -d 'The recipient of the test messages (and of the smuggled ones); yours' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l helo -l ehlo -d 'The name for EHLO/LHLO (XCLIENT\'s, and a bare EHLO typed in talk) [default: this machine\'s name]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l timeout -d 'Wait at most this long for each reply [default: RFC 5321\'s per-step limits; 30s in scripts]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l show-secrets -d 'Show what AUTH sends instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand smuggle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand load" -l count -d 'Send this many messages [default: 100, unless --duration is given]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l duration -d 'Send for this long: 30s, 5m, 1h (at most 24h); with --count, whichever ends first' -r
complete -c postie -n "__fish_postie_using_subcommand load" -s c -l concurrency -d 'Sessions at once, each in its own thread' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l per-connection -d 'Messages per session, with RSET between them; 1 opens a new connection for each message' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l rate -d 'An open loop: start messages at this rate (R, R/s or R/m), whatever the server does; each message\'s latency counts from when it was due, so a slow server shows as latency, not as a lower rate' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l size -d 'Pad the built-in message to this many bytes' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l max-errors -d 'Go on through this many refused or failed messages (exit 0); stop at the next one (exit 1) [default: run to the end; exit 1 if any message was not accepted]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -s s -l server -d 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain\'s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l max-time -d 'One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l resolve -d 'Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl\'s --resolve)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand load" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand load" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand load" -l user -d 'Authenticate as this user (AUTH is used when --user is given)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l auth -d 'The mechanism [default: the strongest both sides have]' -r -f -a "plain\t'RFC 4616: user and password in one base64 message'
login\t'The old two-step user/password exchange'
cram-md5\t'RFC 2195: an HMAC-MD5 of the server\'s challenge; the password itself is never sent'
xoauth2\t'Google and Microsoft\'s OAuth 2.0 bearer token form'
oauthbearer\t'RFC 7628: OAuth 2.0 bearer token'"
complete -c postie -n "__fish_postie_using_subcommand load" -l password-env -d 'Read the password from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l password-file -d 'Read the password from the first line of this file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l password -d 'The password itself. Other users can see it in `ps`: prefer --password-env or --password-file' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l password-command -d 'Run this command with /bin/sh -c and use the first line it prints as the password, as msmtp\'s passwordeval does (e.g. \'pass show mail/work\'); a command that fails stops postie before it connects' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l netrc-file -d 'Read this file instead of ~/.netrc (implies --netrc)' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-token-env -d 'Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-token-file -d 'Read an OAuth 2.0 bearer token from the first line of this file' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-token-url -d 'The provider\'s token endpoint (https://), where a refresh token is exchanged for an access token' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-client-id -d 'The OAuth client id postie is registered as at the provider' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-client-secret -d 'The client secret, if the client has one: env:NAME, file:PATH or command:COMMAND' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-refresh-token -d 'The refresh token: env:NAME, file:PATH or command:COMMAND. With --user, AUTH uses an access token got with it (kept in ~/.cache/postie until it expires); `postie oauth login` writes it to file:PATH' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-device-url -d 'The provider\'s device authorization endpoint (https://), for `postie oauth login`' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l oauth-scope -d 'The scope to ask for (space-separated), e.g. https://mail.google.com/ for Gmail' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l helo -l ehlo -d 'The name to give in EHLO/HELO [default: this machine\'s fully qualified name, or an address literal]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l timeout -d 'Wait at most this long for each reply, instead of RFC 5321\'s per-step limits (5 min, 10 min at the end)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -s f -l from -d 'The sender, for the envelope and the From header: ADDRESS or \'Name <ADDRESS>\'. \'\' means the null sender' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l to -d 'A recipient (repeatable): ADDRESS or \'Name <ADDRESS>\'' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l cc -d 'A copy recipient (repeatable), listed in the Cc header' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l bcc -d 'A blind copy recipient (repeatable): gets the message, never appears in it' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l subject -d 'The Subject header [default: "test" and the date]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l body -d 'The body text, or @FILE to read it from FILE (@- for stdin), as curl\'s -d does [default: stdin when it is not a terminal, else a one-line test body]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l body-file -d 'Read the body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -s H -l header -d 'Add a header, \'Name: value\' (repeatable); it replaces a generated header of the same name' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l html -d 'An HTML body, sent beside the text body as multipart/alternative' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l html-file -d 'Read the HTML body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l attach -d 'Attach a file (repeatable; \'-\' for stdin). Its type is guessed from the name; give it with the file as curl\'s -F does: --attach \'q3.pdf;type=application/pdf;name=Q3 report.pdf\'' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l attach-type -d 'The MIME type of the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l attach-name -d 'The file name shown for the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l reply-to -d 'A Reply-To address (repeatable)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l data -d 'Send this complete RFC 5322 message as it is (\'-\' for stdin), instead of building one' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l sendmail-full-name -d 'Set by `postie sendmail -F NAME`: the full name for a sender that has none' -r
complete -c postie -n "__fish_postie_using_subcommand load" -s o -d 'Accepted for sendmail compatibility: -oi' -r -f -a "i\t''"
complete -c postie -n "__fish_postie_using_subcommand load" -l notify -d 'DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l ret -d 'DSN: return the full message or only its headers in a bounce' -r -f -a "full\t''
hdrs\t''"
complete -c postie -n "__fish_postie_using_subcommand load" -l envid -d 'DSN: an envelope identifier to find in reports' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l quit-after -d 'End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt (`--quit-after rcpt -q; echo $?` tells whether an address is accepted)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand load" -l drop-after -d 'Close the connection without QUIT after this step (the same steps, and data: after the 354)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand load" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand load" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand load" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand load" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand load" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand load" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand load" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand load" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand load" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand load" -s n -l netrc -d 'Take the user (when --user is not given) and the password from ~/.netrc ($NETRC) for the --server host, as curl -n does. With --user and no password, postie looks there too before it asks'
complete -c postie -n "__fish_postie_using_subcommand load" -l allow-plaintext-auth -d 'Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path)'
complete -c postie -n "__fish_postie_using_subcommand load" -l show-secrets -d 'Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand load" -l null-sender -d 'Use the null reverse-path MAIL FROM:<> (as bounces do)'
complete -c postie -n "__fish_postie_using_subcommand load" -s t -l read-recipients -d 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending'
complete -c postie -n "__fish_postie_using_subcommand load" -s i -d 'Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie\'s message'
complete -c postie -n "__fish_postie_using_subcommand load" -l sendmail -d 'Set by `postie sendmail`: complete the message\'s headers as sendmail does (Date, Message-ID, From)'
complete -c postie -n "__fish_postie_using_subcommand load" -l no-pipelining -d 'Send commands one at a time even when the server offers PIPELINING'
complete -c postie -n "__fish_postie_using_subcommand load" -l bdat -d 'Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it'
complete -c postie -n "__fish_postie_using_subcommand load" -l dump -d 'Print the message that would be sent (the envelope goes to stderr) and send nothing'
complete -c postie -n "__fish_postie_using_subcommand load" -l show-data -d 'Print every line of the message in the transcript, not only its size'
complete -c postie -n "__fish_postie_using_subcommand load" -s q -l quiet -d 'Print nothing when every recipient accepted the message; errors still go to stderr'
complete -c postie -n "__fish_postie_using_subcommand load" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand load" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand load" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand load" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand load" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand catch" -l listen -d 'Listen on this ADDRESS:PORT (repeatable; [::1]:2526 for IPv6; port 0 picks a free port, printed on the first line). Anything but loopback gets a warning' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l count -d 'End after N messages (and the sessions that sent them)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l timeout -d 'End a session whose client is silent this long (421 4.4.2)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l max-sessions -d 'At most this many sessions at once; more get 421 4.3.2' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l hostname -d 'The name in the greeting and the EHLO reply' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l maildir -d 'Also store each message in this Maildir (created if missing), exactly the bytes received' -r -F
complete -c postie -n "__fish_postie_using_subcommand catch" -l mbox -d 'Also append each message to this mbox file (mboxrd: a From_ line, >From quoting, LF line endings)' -r -F
complete -c postie -n "__fish_postie_using_subcommand catch" -l reply -d 'Answer STEP with CODE (and TEXT) instead of the real reply (repeatable): STEP is greeting, ehlo, helo, starttls, auth, mail, rcpt, data, bdat, dot (the reply after the message), rset, noop or quit' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l greeting -d 'Greet with this code instead of 220: 421 (closes at once) or 554 (only QUIT is answered)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l delay -d 'Wait this long before the reply to STEP (repeatable), e.g. greeting=3s, dot=1.5 (seconds)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l drop -d 'Close the connection at STEP instead of replying (repeatable); after-data is the end of the message, before its reply' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l end-of-data -d 'What ends a message after DATA: strict (only <CR><LF>.<CR><LF>) or lenient (a bare <LF> ends lines too, so <LF>.<LF> ends the message: open to SMTP smuggling, for testing a sender\'s defences)' -r -f -a "strict\t''
lenient\t''"
complete -c postie -n "__fish_postie_using_subcommand catch" -l max-size -d 'The largest message taken, in bytes (SIZE; larger ones get 552 5.3.4)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l max-line-length -d 'The longest command line taken, in bytes (longer ones get 500 5.5.6)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l max-recipients -d 'The most recipients of one message (more get 452 4.5.3)' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l tls -d 'Offer STARTTLS with a certificate made now, in memory (clients must not verify it: postie send -k)' -r -f -a "self-signed\t''"
complete -c postie -n "__fish_postie_using_subcommand catch" -l tls-cert -d 'Offer STARTTLS with this certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand catch" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand catch" -l auth -d 'Offer AUTH PLAIN and LOGIN: `any` accepts every user and password; USER:SECRET (repeatable) accepts only those, and MAIL then needs AUTH. SECRET is env:NAME, file:PATH or command:COMMAND' -r
complete -c postie -n "__fish_postie_using_subcommand catch" -l once -d 'End after one message (and the session that sent it)'
complete -c postie -n "__fish_postie_using_subcommand catch" -l show-data -d 'Show each message\'s content after its summary (`D: ` lines; "content" in JSON)'
complete -c postie -n "__fish_postie_using_subcommand catch" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per line, each with its session'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-pipelining -d 'Do not offer PIPELINING'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-size -d 'Do not offer SIZE (the limit still holds)'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-8bitmime -d 'Do not offer 8BITMIME'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-smtputf8 -d 'Do not offer SMTPUTF8'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-enhanced-status-codes -d 'Do not offer ENHANCEDSTATUSCODES (and send none)'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-dsn -d 'Do not offer DSN'
complete -c postie -n "__fish_postie_using_subcommand catch" -l no-chunking -d 'Do not offer CHUNKING (BDAT)'
complete -c postie -n "__fish_postie_using_subcommand catch" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per recipient after the message'
complete -c postie -n "__fish_postie_using_subcommand catch" -l implicit-tls -d 'TLS from the first byte (as on port 465) instead of STARTTLS; needs --tls or --tls-cert'
complete -c postie -n "__fish_postie_using_subcommand catch" -l require-tls -d 'Refuse MAIL and AUTH before STARTTLS (530 5.7.0); needs --tls or --tls-cert'
complete -c postie -n "__fish_postie_using_subcommand catch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand sendmail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand config; and not __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand config; and not __fish_seen_subcommand_from check" -f -a "check" -d 'Check the config file (unknown keys, wrong types, a missing account, each with FILE:LINE) and print the settings `postie send` would use with these flags, each with its origin: flag, environment, account or [defaults]. Passwords are shown as <redacted>'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s s -l server -d 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain\'s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l max-time -d 'One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l resolve -d 'Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl\'s --resolve)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s p -l port -d 'The port of every server [default: 25, or the one in --server]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l dns-server -d 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l dns-timeout -d 'Give up on a DNS lookup after this long (a temporary failure)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l trust-anchor -d 'Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g. "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l bind -d 'Connect from this local address' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l connect-timeout -d 'Give up on an address that does not accept the connection within this time' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l proxy -d 'Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the server\'s name) or socks5://... (postie resolves it); port 1080 by default, user and password percent-encoded [default: $ALL_PROXY or $all_proxy; \'\' for none]. Not the PROXY protocol header (--proxy-protocol)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l proxy-password -d 'The SOCKS5 proxy\'s password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy URL (socks5h://USER@HOST)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l no-proxy -l noproxy -d 'Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP addresses, \'*\' for all [default: $NO_PROXY or $no_proxy]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls -d 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]' -r -f -a "auto\t'STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only: an attacker in the path can strip the STARTTLS offer'
required\t'STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against eavesdropping and, with verification, against a server in the middle'
none\t'Never start TLS. Everything, AUTH included, goes in clear text'
implicit\t'TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text'
dane\t'As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec or --trust-anchor), and the server\'s certificate must match them'
mta-sts\t'As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls-verify -d 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]' -r -f -a "strict\t'Abort the handshake when the certificate does not verify'
report\t'Complete the handshake, show the chain, say what was wrong, and go on'
insecure\t'Go on whatever the certificate says, with a warning: no protection against a server in the middle'
dane\t'With --server: the smart host\'s secure TLSA records decide (DANE, RFC 7672; needs --dnssec or --trust-anchor), and TLS is required'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls-name -d 'Check the certificate against NAME and send NAME as SNI, wherever --server points' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l ca-file -d 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls-cert -d 'Present this client certificate chain (PEM); needs --tls-key' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l tls-min-version -d 'The lowest TLS version to accept' -r -f -a "1.2\t''
1.3\t''"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l user -d 'Authenticate as this user (AUTH is used when --user is given)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l auth -d 'The mechanism [default: the strongest both sides have]' -r -f -a "plain\t'RFC 4616: user and password in one base64 message'
login\t'The old two-step user/password exchange'
cram-md5\t'RFC 2195: an HMAC-MD5 of the server\'s challenge; the password itself is never sent'
xoauth2\t'Google and Microsoft\'s OAuth 2.0 bearer token form'
oauthbearer\t'RFC 7628: OAuth 2.0 bearer token'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l password-env -d 'Read the password from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l password-file -d 'Read the password from the first line of this file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l password -d 'The password itself. Other users can see it in `ps`: prefer --password-env or --password-file' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l password-command -d 'Run this command with /bin/sh -c and use the first line it prints as the password, as msmtp\'s passwordeval does (e.g. \'pass show mail/work\'); a command that fails stops postie before it connects' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l netrc-file -d 'Read this file instead of ~/.netrc (implies --netrc)' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-token-env -d 'Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-token-file -d 'Read an OAuth 2.0 bearer token from the first line of this file' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-token-url -d 'The provider\'s token endpoint (https://), where a refresh token is exchanged for an access token' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-client-id -d 'The OAuth client id postie is registered as at the provider' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-client-secret -d 'The client secret, if the client has one: env:NAME, file:PATH or command:COMMAND' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-refresh-token -d 'The refresh token: env:NAME, file:PATH or command:COMMAND. With --user, AUTH uses an access token got with it (kept in ~/.cache/postie until it expires); `postie oauth login` writes it to file:PATH' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-device-url -d 'The provider\'s device authorization endpoint (https://), for `postie oauth login`' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l oauth-scope -d 'The scope to ask for (space-separated), e.g. https://mail.google.com/ for Gmail' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l helo -l ehlo -d 'The name to give in EHLO/HELO [default: this machine\'s fully qualified name, or an address literal]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l timeout -d 'Wait at most this long for each reply, instead of RFC 5321\'s per-step limits (5 min, 10 min at the end)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s f -l from -d 'The sender, for the envelope and the From header: ADDRESS or \'Name <ADDRESS>\'. \'\' means the null sender' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l to -d 'A recipient (repeatable): ADDRESS or \'Name <ADDRESS>\'' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l cc -d 'A copy recipient (repeatable), listed in the Cc header' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l bcc -d 'A blind copy recipient (repeatable): gets the message, never appears in it' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l subject -d 'The Subject header [default: "test" and the date]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l body -d 'The body text, or @FILE to read it from FILE (@- for stdin), as curl\'s -d does [default: stdin when it is not a terminal, else a one-line test body]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l body-file -d 'Read the body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s H -l header -d 'Add a header, \'Name: value\' (repeatable); it replaces a generated header of the same name' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l html -d 'An HTML body, sent beside the text body as multipart/alternative' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l html-file -d 'Read the HTML body from a file (\'-\' for stdin)' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l attach -d 'Attach a file (repeatable; \'-\' for stdin). Its type is guessed from the name; give it with the file as curl\'s -F does: --attach \'q3.pdf;type=application/pdf;name=Q3 report.pdf\'' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l attach-type -d 'The MIME type of the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l attach-name -d 'The file name shown for the --attach it follows' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l reply-to -d 'A Reply-To address (repeatable)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l data -d 'Send this complete RFC 5322 message as it is (\'-\' for stdin), instead of building one' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l sendmail-full-name -d 'Set by `postie sendmail -F NAME`: the full name for a sender that has none' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s o -d 'Accepted for sendmail compatibility: -oi' -r -f -a "i\t''"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l notify -d 'DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l ret -d 'DSN: return the full message or only its headers in a bounce' -r -f -a "full\t''
hdrs\t''"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l envid -d 'DSN: an envelope identifier to find in reports' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l quit-after -d 'End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt (`--quit-after rcpt -q; echo $?` tells whether an address is accepted)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l drop-after -d 'Close the connection without QUIT after this step (the same steps, and data: after the 354)' -r -f -a "connect\t''
banner\t''
ehlo\t''
tls\t''
auth\t''
mail\t''
rcpt\t''
data\t'After the 354 to DATA, before any of the message (only with --drop-after)'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l pipe -d 'Speak SMTP over this command\'s stdin and stdout instead of a network connection, run with /bin/sh -c (e.g. \'sendmail -bs\' or \'exim -bs\', to test an MTA\'s configuration without a network)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l xclient -d 'Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR, DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l proxy-protocol -d 'Send a PROXY protocol header (HAProxy\'s v1 text or v2 binary) before anything else, as a load balancer does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)' -r -f -a "v1\t'The text line: PROXY TCP4 source destination sport dport'
v2\t'The binary header'"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l proxy-source -d 'The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6)' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l proxy-dest -d 'The destination address the PROXY header claims [default: the server\'s address and port]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l color -d 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l dnssec -d 'Validate DNS answers with DNSSEC against the root\'s keys: DANE (TLSA) then applies where it is secure'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l dns-trust-ad -d 'Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a validating resolver on a path you trust, instead of validating in process (as Postfix does)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s 4 -l ipv4 -d 'Use IPv4 addresses only'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s 6 -l ipv6 -d 'Use IPv6 addresses only'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s k -l insecure -d 'Same as --tls-verify insecure: no protection against a server in the middle'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s n -l netrc -d 'Take the user (when --user is not given) and the password from ~/.netrc ($NETRC) for the --server host, as curl -n does. With --user and no password, postie looks there too before it asks'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l allow-plaintext-auth -d 'Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l show-secrets -d 'Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l null-sender -d 'Use the null reverse-path MAIL FROM:<> (as bounces do)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s t -l read-recipients -d 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s i -d 'Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie\'s message'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l sendmail -d 'Set by `postie sendmail`: complete the message\'s headers as sendmail does (Date, Message-ID, From)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l no-pipelining -d 'Send commands one at a time even when the server offers PIPELINING'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l bdat -d 'Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l dump -d 'Print the message that would be sent (the envelope goes to stderr) and send nothing'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l show-data -d 'Print every line of the message in the transcript, not only its size'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing when every recipient accepted the message; errors still go to stderr'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l lmtp -d 'Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24]'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l timing -d 'The elapsed time on every line, and how long each step and each reply took'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l explain -d 'Explain every reply and the EHLO capabilities, not only failures'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c postie -n "__fish_postie_using_subcommand oauth; and not __fish_seen_subcommand_from login" -s h -l help -d 'Print help'
complete -c postie -n "__fish_postie_using_subcommand oauth; and not __fish_seen_subcommand_from login" -f -a "login" -d 'Sign in once, without a browser on this machine (RFC 8628 device authorization): print a URL and a code to enter there, wait for the approval, and write the refresh token to the file:PATH that --oauth-refresh-token names (mode 0600), so that `send` can use it'
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-token-url -d 'The provider\'s token endpoint (https://), where a refresh token is exchanged for an access token' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-client-id -d 'The OAuth client id postie is registered as at the provider' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-client-secret -d 'The client secret, if the client has one: env:NAME, file:PATH or command:COMMAND' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-refresh-token -d 'The refresh token: env:NAME, file:PATH or command:COMMAND. With --user, AUTH uses an access token got with it (kept in ~/.cache/postie until it expires); `postie oauth login` writes it to file:PATH' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-device-url -d 'The provider\'s device authorization endpoint (https://), for `postie oauth login`' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l oauth-scope -d 'The scope to ask for (space-separated), e.g. https://mail.google.com/ for Gmail' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l user -d 'The user the token is for: its access token is cached for `send --user NAME`' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l ca-file -d 'Trust only the CA certificates in this PEM file (repeatable) for the OAuth endpoints' -r -F
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -s a -l account -d 'Use this account of the config file [default: the one whose `from` is --from, else default-account]' -r
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l config -d 'Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else ~/.config/postie/config.toml]' -r -F
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -l no-config -d 'Read no config file'
complete -c postie -n "__fish_postie_using_subcommand oauth; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help (see more with \'--help\')'
