# fish completion for llm-chat.  Installed to
# share/fish/vendor_completions.d.
#
# Model names come from the configuration files and session names from the
# log; their text is only offered as completions, never evaluated.

# The llm.ini files that exist, in the order llm-chat reads them.
# $argv[1] is the --config FILE given on the command line, if any.
function __llm_config_files
    set -l files
    if set -q LLM_DEFAULT_CONFIG
        set files $LLM_DEFAULT_CONFIG
    else
        set files /usr/local/share/llm/llm.ini /usr/share/llm/llm.ini
        # the PREFIX that llm-chat was installed to
        set -l bin (command -v llm-chat)
        and set -a files (string replace -r '/[^/]*/[^/]*$' '' -- $bin)/share/llm/llm.ini
    end
    if set -q XDG_CONFIG_HOME[1]; and test -n "$XDG_CONFIG_HOME"
        set -a files $XDG_CONFIG_HOME/llm/llm.ini
    else
        set -a files $HOME/.config/llm/llm.ini
    end
    if test -n "$argv[1]"
        set -a files $argv[1]
    else if test -n "$LLM_CONFIG"
        set -a files $LLM_CONFIG
    end
    for f in $files
        test -f $f -a -r $f; and echo $f
    end
end

# The --config FILE given earlier on the command line, if any.
function __llm_config_arg
    set -l tokens (commandline -opc)
    set -l config
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --config
                set config $tokens[(math $i + 1)]
            case '--config=*'
                set config (string replace -- --config= '' $tokens[$i])
        end
    end
    string replace -r '^~/' "$HOME/" -- $config
end

# Model aliases, group names and PROVIDER/ prefixes, with a description.
function __llm_models
    set -l files (__llm_config_files (__llm_config_arg))
    test (count $files) -gt 0; or return
    awk '
    /^[ \t]*\[[^]]+\]/ {
        s = $0
        sub(/^[ \t]*\[/, "", s)
        sub(/\].*/, "", s)
        if (s ~ /^model\./)
            t = "model"
        else if (s ~ /^group\./)
            t = "group"
        else if (s ~ /^provider\./)
            t = "provider"
        else
            next
        n = substr(s, length(t) + 2)
        if (n !~ /^[-A-Za-z0-9._:@+]+$/)
            next
        if (t == "provider")
            n = n "/"
        if (!seen[n]++)
            print n "\t" t
    }' $files 2>/dev/null
end

# Session names from the log, most recently used first.
function __llm_sessions
    set -l data $HOME/.local/share
    if set -q XDG_DATA_HOME[1]; and test -n "$XDG_DATA_HOME"
        set data $XDG_DATA_HOME
    end
    set -l db $data/llm/llm.db
    command -q sqlite3; and test -f $db; or return
    for name in (sqlite3 -readonly $db \
            'select name from sessions order by updated_at desc' 2>/dev/null)
        printf '%s\tsession\n' $name
    end
end

complete -c llm-chat -f
complete -c llm-chat -s c -l continue -d 'Continue the most recently used session'
complete -c llm-chat -s h -l help -d 'Print help and exit'
complete -c llm-chat -s m -l model -x -a '(__llm_models)' -d 'Model alias, group or PROVIDER/MODEL'
complete -c llm-chat -s o -l option -x -d 'Extra request field KEY=VALUE (VALUE is JSON or text)'
complete -c llm-chat -s q -l quiet -d 'Print no warnings'
complete -c llm-chat -s S -l session -x -k -a '(__llm_sessions)' -d 'Continue or start the named conversation'
complete -c llm-chat -s s -l system -x -d 'System prompt'
complete -c llm-chat -s t -l temperature -x -d 'Sampling temperature'
complete -c llm-chat -s V -l version -d 'Print the version and exit'
complete -c llm-chat -s v -l verbose -d 'Debug output on stderr (-vv: HTTP details)'
complete -c llm-chat -l config -r -F -d 'Read FILE as the last configuration layer'
complete -c llm-chat -l dry-run -d 'Print the HTTP request that would be sent and exit'
complete -c llm-chat -l atomic -d 'Print the answer only once it is complete'
complete -c llm-chat -l cache -d 'Answer from the response cache when it can'
complete -c llm-chat -l no-cache -d 'Neither read nor fill the response cache'
complete -c llm-chat -l no-wait -d 'Fail at once when a shared limit says wait'
complete -c llm-chat -l connect-timeout -x -d 'Time limit to connect (seconds)'
complete -c llm-chat -l first-byte-timeout -x -d 'Time limit to the first byte (seconds)'
complete -c llm-chat -l idle-timeout -x -d 'Longest pause between two chunks (seconds)'
complete -c llm-chat -l json -d 'Print one JSON object instead of the text'
complete -c llm-chat -l max-tokens -x -d 'Most tokens to generate'
complete -c llm-chat -l no-log -d 'Do not write the request to the log'
complete -c llm-chat -l no-stream -d 'Wait for the whole answer'
complete -c llm-chat -l retries -x -d 'Retries on connection failures, 408, 409, 429, 5xx'
complete -c llm-chat -l stop -x -d 'Stop sequence (repeatable)'
complete -c llm-chat -l system-file -r -F -d 'Read the system prompt from FILE'
complete -c llm-chat -l timeout -x -d 'Time limit for each attempt, in seconds'
complete -c llm-chat -l top-p -x -d 'Nucleus sampling'
