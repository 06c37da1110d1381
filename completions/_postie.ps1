
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'postie' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'postie'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'postie' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Send a message through an SMTP server and print the whole dialogue')
            [CompletionResult]::new('mx', 'mx', [CompletionResultType]::ParameterValue, 'Show where mail for each domain goes (MX hosts and their addresses) without sending any')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Probe every mail server of a domain (or one host) in parallel and report what each says; sends no mail')
            break
        }
        'postie;send' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain''s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain''s MX. Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them')
            [CompletionResult]::new('--max-time', '--max-time', [CompletionResultType]::ParameterName, 'One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes')
            [CompletionResult]::new('--resolve', '--resolve', [CompletionResultType]::ParameterName, 'Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl''s --resolve)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf')
            [CompletionResult]::new('--dns-timeout', '--dns-timeout', [CompletionResultType]::ParameterName, 'Give up on a DNS lookup after this long (a temporary failure)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Connect from this local address')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up on an address that does not accept the connection within this time')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the first byte) [default: implicit on port 465, required on 587, else auto]')
            [CompletionResult]::new('--tls-verify', '--tls-verify', [CompletionResultType]::ParameterName, 'How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on), insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one]')
            [CompletionResult]::new('--tls-name', '--tls-name', [CompletionResultType]::ParameterName, 'Check the certificate against NAME and send NAME as SNI, wherever --server points')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Present this client certificate chain (PEM); needs --tls-key')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key (PEM) of --tls-cert')
            [CompletionResult]::new('--tls-min-version', '--tls-min-version', [CompletionResultType]::ParameterName, 'The lowest TLS version to accept')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Authenticate as this user (AUTH is used when --user is given)')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'The mechanism [default: the strongest both sides have]')
            [CompletionResult]::new('--password-env', '--password-env', [CompletionResultType]::ParameterName, 'Read the password from this environment variable')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file (''-'' for stdin)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'The password itself. Other users can see it in `ps`: prefer --password-env or --password-file')
            [CompletionResult]::new('--oauth-token-env', '--oauth-token-env', [CompletionResultType]::ParameterName, 'Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable')
            [CompletionResult]::new('--oauth-token-file', '--oauth-token-file', [CompletionResultType]::ParameterName, 'Read an OAuth 2.0 bearer token from the first line of this file')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'The name to give in EHLO/HELO [default: this machine''s fully qualified name, or an address literal]')
            [CompletionResult]::new('--ehlo', '--ehlo', [CompletionResultType]::ParameterName, 'The name to give in EHLO/HELO [default: this machine''s fully qualified name, or an address literal]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Wait at most this long for each reply, instead of RFC 5321''s per-step limits (5 min, 10 min at the end)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The sender, for the envelope and the From header: ADDRESS or ''Name <ADDRESS>''. '''' means the null sender')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The sender, for the envelope and the From header: ADDRESS or ''Name <ADDRESS>''. '''' means the null sender')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'A recipient (repeatable): ADDRESS or ''Name <ADDRESS>''')
            [CompletionResult]::new('--cc', '--cc', [CompletionResultType]::ParameterName, 'A copy recipient (repeatable), listed in the Cc header')
            [CompletionResult]::new('--bcc', '--bcc', [CompletionResultType]::ParameterName, 'A blind copy recipient (repeatable): gets the message, never appears in it')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The Subject header [default: "test" and the date]')
            [CompletionResult]::new('--body', '--body', [CompletionResultType]::ParameterName, 'The body text, or @FILE to read it from FILE (@- for stdin), as curl''s -d does [default: stdin when it is not a terminal, else a one-line test body]')
            [CompletionResult]::new('--body-file', '--body-file', [CompletionResultType]::ParameterName, 'Read the body from a file (''-'' for stdin)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Add a header, ''Name: value'' (repeatable); it replaces a generated header of the same name')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Add a header, ''Name: value'' (repeatable); it replaces a generated header of the same name')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'An HTML body, sent beside the text body as multipart/alternative')
            [CompletionResult]::new('--html-file', '--html-file', [CompletionResultType]::ParameterName, 'Read the HTML body from a file (''-'' for stdin)')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Attach a file (repeatable; ''-'' for stdin). Its type is guessed from the name; give it with the file as curl''s -F does: --attach ''q3.pdf;type=application/pdf;name=Q3 report.pdf''')
            [CompletionResult]::new('--attach-type', '--attach-type', [CompletionResultType]::ParameterName, 'The MIME type of the --attach it follows')
            [CompletionResult]::new('--attach-name', '--attach-name', [CompletionResultType]::ParameterName, 'The file name shown for the --attach it follows')
            [CompletionResult]::new('--reply-to', '--reply-to', [CompletionResultType]::ParameterName, 'A Reply-To address (repeatable)')
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Send this complete RFC 5322 message as it is (''-'' for stdin), instead of building one')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Accepted for sendmail compatibility: -oi')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay')
            [CompletionResult]::new('--ret', '--ret', [CompletionResultType]::ParameterName, 'DSN: return the full message or only its headers in a bounce')
            [CompletionResult]::new('--envid', '--envid', [CompletionResultType]::ParameterName, 'DSN: an envelope identifier to find in reports')
            [CompletionResult]::new('--quit-after', '--quit-after', [CompletionResultType]::ParameterName, 'End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt (`--quit-after rcpt -q; echo $?` tells whether an address is accepted)')
            [CompletionResult]::new('--drop-after', '--drop-after', [CompletionResultType]::ParameterName, 'Close the connection without QUIT after this step (the same steps, and data: after the 354)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Same as --tls-verify insecure: no protection against a server in the middle')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Same as --tls-verify insecure: no protection against a server in the middle')
            [CompletionResult]::new('--allow-plaintext-auth', '--allow-plaintext-auth', [CompletionResultType]::ParameterName, 'Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path)')
            [CompletionResult]::new('--show-secrets', '--show-secrets', [CompletionResultType]::ParameterName, 'Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption)')
            [CompletionResult]::new('--null-sender', '--null-sender', [CompletionResultType]::ParameterName, 'Use the null reverse-path MAIL FROM:<> (as bounces do)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending')
            [CompletionResult]::new('--read-recipients', '--read-recipients', [CompletionResultType]::ParameterName, 'sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or --data), and remove the Bcc header before sending')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie''s message')
            [CompletionResult]::new('--no-pipelining', '--no-pipelining', [CompletionResultType]::ParameterName, 'Send commands one at a time even when the server offers PIPELINING')
            [CompletionResult]::new('--bdat', '--bdat', [CompletionResultType]::ParameterName, 'Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it')
            [CompletionResult]::new('--dump', '--dump', [CompletionResultType]::ParameterName, 'Print the message that would be sent (the envelope goes to stderr) and send nothing')
            [CompletionResult]::new('--show-data', '--show-data', [CompletionResultType]::ParameterName, 'Print every line of the message in the transcript, not only its size')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing when every recipient accepted the message; errors still go to stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing when every recipient accepted the message; errors still go to stderr')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)')
            [CompletionResult]::new('--timing', '--timing', [CompletionResultType]::ParameterName, 'The elapsed time on every line, and how long each step and each reply took')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Explain every reply and the EHLO capabilities, not only failures')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'postie;mx' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --check: wait at most this long for each greeting')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'With --check: implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf')
            [CompletionResult]::new('--dns-timeout', '--dns-timeout', [CompletionResultType]::ParameterName, 'Give up on a DNS lookup after this long (a temporary failure)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Connect from this local address')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up on an address that does not accept the connection within this time')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Also connect to every address, in parallel, and show whether it answers and its greeting')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write JSON Lines to stdout: one object per domain (schema in README.md)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'postie;probe' {
            [CompletionResult]::new('--rcpt', '--rcpt', [CompletionResultType]::ParameterName, 'Also check that MAIL FROM and RCPT TO this address are accepted (then RSET and QUIT: nothing is sent)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The sender for --rcpt [default: the null sender <>]')
            [CompletionResult]::new('--helo', '--helo', [CompletionResultType]::ParameterName, 'The name to give in EHLO [default: this machine''s fully qualified name]')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file too (repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Wait at most this long for the greeting and each reply (a slower greeting is reported as a delay)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465, else STARTTLS]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The port of every server [default: 25, or the one in --server]')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf')
            [CompletionResult]::new('--dns-timeout', '--dns-timeout', [CompletionResultType]::ParameterName, 'Give up on a DNS lookup after this long (a temporary failure)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Connect from this local address')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up on an address that does not accept the connection within this time')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the whole C:/S: transcript of each host before its report')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the whole C:/S: transcript of each host before its report')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('--ipv4', '--ipv4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('--ipv6', '--ipv6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md)')
            [CompletionResult]::new('--timing', '--timing', [CompletionResultType]::ParameterName, 'The elapsed time on every line, and how long each step and each reply took')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Explain every reply and the EHLO capabilities, not only failures')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
