
use builtin;
use str;

set edit:completion:arg-completer[postie] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'postie'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'postie'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand send 'Send a message through an SMTP server and print the whole dialogue'
            cand mx 'Show where mail for each domain goes (MX hosts and their addresses) without sending any'
            cand probe 'Probe every mail server of a domain (or one host) in parallel and report what each says; sends no mail'
            cand generate 'Write shell completions and man pages generated from this definition (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'postie;send'= {
            cand -s 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain''s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them'
            cand --server 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain''s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them'
            cand --max-time 'One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes'
            cand --resolve 'Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl''s --resolve)'
            cand -p 'The port of every server [default: 25, or the one in --server]'
            cand --port 'The port of every server [default: 25, or the one in --server]'
            cand --dns-server 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf'
            cand --dns-timeout 'Give up on a DNS lookup after this long (a temporary failure)'
            cand --bind 'Connect from this local address'
            cand --connect-timeout 'Give up on an address that does not accept the connection within this time'
            cand --tls 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]'
            cand --tls-verify 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]'
            cand --tls-name 'Check the certificate against NAME and send NAME as SNI, wherever --server points'
            cand --ca-file 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots'
            cand --tls-cert 'Present this client certificate chain (PEM); needs --tls-key'
            cand --tls-key 'The private key (PEM) of --tls-cert'
            cand --tls-min-version 'The lowest TLS version to accept'
            cand --user 'Authenticate as this user (AUTH is used when --user is given)'
            cand --auth 'The mechanism [default: the strongest both sides have]'
            cand --password-env 'Read the password from this environment variable'
            cand --password-file 'Read the password from the first line of this file (''-'' for stdin)'
            cand --password 'The password itself. Other users can see it in `ps`: prefer --password-env or --password-file'
            cand --oauth-token-env 'Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable'
            cand --oauth-token-file 'Read an OAuth 2.0 bearer token from the first line of this file'
            cand --helo 'The name to give in EHLO/HELO [default: this machine''s fully qualified name, or an address literal]'
            cand --ehlo 'The name to give in EHLO/HELO [default: this machine''s fully qualified name, or an address literal]'
            cand --timeout 'Wait at most this long for each reply, instead of RFC 5321''s per-step limits (5 min, 10 min at the end)'
            cand -f 'The sender, for the envelope and the From header: ADDRESS or ''Name <ADDRESS>''. '''' means the null sender'
            cand --from 'The sender, for the envelope and the From header: ADDRESS or ''Name <ADDRESS>''. '''' means the null sender'
            cand --to 'A recipient (repeatable): ADDRESS or ''Name <ADDRESS>'''
            cand --cc 'A copy recipient (repeatable), listed in the Cc header'
            cand --bcc 'A blind copy recipient (repeatable): gets the message, never appears in it'
            cand --subject 'The Subject header [default: "test" and the date]'
            cand --body 'The body text, or @FILE to read it from FILE (@- for stdin), as curl''s -d does [default: stdin when it is not a terminal, else a one-line test body]'
            cand --body-file 'Read the body from a file (''-'' for stdin)'
            cand -H 'Add a header, ''Name: value'' (repeatable); it replaces a generated header of the same name'
            cand --header 'Add a header, ''Name: value'' (repeatable); it replaces a generated header of the same name'
            cand --html 'An HTML body, sent beside the text body as multipart/alternative'
            cand --html-file 'Read the HTML body from a file (''-'' for stdin)'
            cand --attach 'Attach a file (repeatable; ''-'' for stdin). Its type is guessed from the name; give it with the file as curl''s -F does: --attach ''q3.pdf;type=application/pdf;name=Q3 report.pdf'''
            cand --attach-type 'The MIME type of the --attach it follows'
            cand --attach-name 'The file name shown for the --attach it follows'
            cand --reply-to 'A Reply-To address (repeatable)'
            cand --data 'Send this complete RFC 5322 message as it is (''-'' for stdin), instead of building one'
            cand -o 'Accepted for sendmail compatibility: -oi'
            cand --notify 'DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay'
            cand --ret 'DSN: return the full message or only its headers in a bounce'
            cand --envid 'DSN: an envelope identifier to find in reports'
            cand --quit-after 'End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt (`--quit-after rcpt -q; echo $?` tells whether an address is accepted)'
            cand --drop-after 'Close the connection without QUIT after this step (the same steps, and data: after the 354)'
            cand --color 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -4 'Use IPv4 addresses only'
            cand --ipv4 'Use IPv4 addresses only'
            cand -6 'Use IPv6 addresses only'
            cand --ipv6 'Use IPv6 addresses only'
            cand -k 'Same as --tls-verify insecure: no protection against a server in the middle'
            cand --insecure 'Same as --tls-verify insecure: no protection against a server in the middle'
            cand --allow-plaintext-auth 'Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path)'
            cand --show-secrets 'Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption)'
            cand --null-sender 'Use the null reverse-path MAIL FROM:<> (as bounces do)'
            cand -t 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending'
            cand --read-recipients 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending'
            cand -i 'Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie''s message'
            cand --no-pipelining 'Send commands one at a time even when the server offers PIPELINING'
            cand --bdat 'Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it'
            cand --dump 'Print the message that would be sent (the envelope goes to stderr) and send nothing'
            cand --show-data 'Print every line of the message in the transcript, not only its size'
            cand -q 'Print nothing when every recipient accepted the message; errors still go to stderr'
            cand --quiet 'Print nothing when every recipient accepted the message; errors still go to stderr'
            cand --json 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
            cand --timing 'The elapsed time on every line, and how long each step and each reply took'
            cand --explain 'Explain every reply and the EHLO capabilities, not only failures'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'postie;mx'= {
            cand --timeout 'With --check: wait at most this long for each greeting'
            cand --tls 'With --check: implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465]'
            cand -p 'The port of every server [default: 25, or the one in --server]'
            cand --port 'The port of every server [default: 25, or the one in --server]'
            cand --dns-server 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf'
            cand --dns-timeout 'Give up on a DNS lookup after this long (a temporary failure)'
            cand --bind 'Connect from this local address'
            cand --connect-timeout 'Give up on an address that does not accept the connection within this time'
            cand --check 'Also connect to every address, in parallel, and show whether it answers and its greeting'
            cand -4 'Use IPv4 addresses only'
            cand --ipv4 'Use IPv4 addresses only'
            cand -6 'Use IPv6 addresses only'
            cand --ipv6 'Use IPv6 addresses only'
            cand --json 'Write JSON Lines to stdout: one object per domain (schema in README.md)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'postie;probe'= {
            cand --rcpt 'Also check that MAIL FROM and RCPT TO this address are accepted (then RSET and QUIT: nothing is sent)'
            cand --from 'The sender for --rcpt [default: the null sender <>]'
            cand --helo 'The name to give in EHLO [default: this machine''s fully qualified name]'
            cand --ca-file 'Trust the CA certificates in this PEM file too (repeatable)'
            cand --timeout 'Wait at most this long for the greeting and each reply (a slower greeting is reported as a delay)'
            cand --tls 'implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465, else STARTTLS]'
            cand -p 'The port of every server [default: 25, or the one in --server]'
            cand --port 'The port of every server [default: 25, or the one in --server]'
            cand --dns-server 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf'
            cand --dns-timeout 'Give up on a DNS lookup after this long (a temporary failure)'
            cand --bind 'Connect from this local address'
            cand --connect-timeout 'Give up on an address that does not accept the connection within this time'
            cand --color 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -v 'Show the whole C:/S: transcript of each host before its report'
            cand --verbose 'Show the whole C:/S: transcript of each host before its report'
            cand -4 'Use IPv4 addresses only'
            cand --ipv4 'Use IPv4 addresses only'
            cand -6 'Use IPv6 addresses only'
            cand --ipv6 'Use IPv6 addresses only'
            cand --json 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)'
            cand --timing 'The elapsed time on every line, and how long each step and each reply took'
            cand --explain 'Explain every reply and the EHLO capabilities, not only failures'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'postie;generate'= {
            cand --out 'The project directory to write completions/ and man/ into'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'postie;help'= {
            cand send 'Send a message through an SMTP server and print the whole dialogue'
            cand mx 'Show where mail for each domain goes (MX hosts and their addresses) without sending any'
            cand probe 'Probe every mail server of a domain (or one host) in parallel and report what each says; sends no mail'
            cand generate 'Write shell completions and man pages generated from this definition (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'postie;help;send'= {
        }
        &'postie;help;mx'= {
        }
        &'postie;help;probe'= {
        }
        &'postie;help;generate'= {
        }
        &'postie;help;help'= {
        }
    ]
    $completions[$command]
}
