# fish completion for llm-log.  Installed to
# share/fish/vendor_completions.d.
#
# Model and provider names come from the configuration files, session names
# from the log that "llm-log path" names (read with sqlite3); their text is
# only offered as completions, never evaluated.
#
# __llm_config_files, __llm_config_arg and __llm_models are the same as in
# the llm-chat completion, which defines them too: keep the copies
# identical.

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

# Provider names.
function __llm_log_providers
    set -l files (__llm_config_files (__llm_config_arg))
    test (count $files) -gt 0; or return
    awk '
    /^[ \t]*\[provider\.[-A-Za-z0-9._:@+]+\]/ {
        s = $0
        sub(/^[ \t]*\[provider\./, "", s)
        sub(/\].*/, "", s)
        if (!seen[s]++)
            print s "\tprovider"
    }' $files 2>/dev/null
end

# Session names from the log, most recently used first.
function __llm_log_sessions
    command -q sqlite3; or return
    set -l config (__llm_config_arg)
    set -l db
    if test -n "$config"
        set db (llm-log --config $config path 2>/dev/null)
    else
        set db (llm-log path 2>/dev/null)
    end
    or return
    test -f "$db"; or return
    for name in (sqlite3 -readonly $db \
            'select name from sessions order by updated_at desc' 2>/dev/null)
        printf '%s\tsession\n' $name
    end
end

# The words after the options: the command and its arguments.
function __llm_log_words
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $t
            case -n --by --config --format --group --keep --model \
                --older-than --provider --session --since --status --until
                set skip 1
            case '-*'
            case '*'
                echo $t
        end
    end
end

# No command yet.
function __llm_log_no_command
    test (count (__llm_log_words)) -eq 0
end

# The command is $argv[1], followed by $argv[2] more words.
function __llm_log_at
    set -l w (__llm_log_words)
    test (count $w) -eq (math $argv[2] + 1); and test "$w[1]" = $argv[1]
end

# "sessions show|rm|rename" and no name yet.
function __llm_log_session_arg
    set -l w (__llm_log_words)
    test (count $w) -eq 2; and test "$w[1]" = sessions
    and contains -- $w[2] show rm rename
end

complete -c llm-log -f
complete -c llm-log -n __llm_log_no_command -a list -d 'The latest requests (the default)'
complete -c llm-log -n __llm_log_no_command -a show -d 'One request, or its whole compare or chain run'
complete -c llm-log -n __llm_log_no_command -a search -d 'Full text over prompts and answers'
complete -c llm-log -n __llm_log_no_command -a sessions -d 'The sessions; show, rm, rename'
complete -c llm-log -n __llm_log_no_command -a stats -d 'Requests, errors, latency, tokens, cost'
complete -c llm-log -n __llm_log_no_command -a export -d 'Every column, as CSV or JSON lines'
complete -c llm-log -n __llm_log_no_command -a prune -d 'Remove old requests'
complete -c llm-log -n __llm_log_no_command -a path -d 'Print the path of the log'
complete -c llm-log -n __llm_log_no_command -a backup -d 'Write a consistent copy of the log'
complete -c llm-log -n __llm_log_no_command -a reprice -d 'Recompute costs from the prices in llm.ini'
complete -c llm-log -n '__llm_log_at sessions 0' -a 'list show rm rename'
complete -c llm-log -n __llm_log_session_arg -k -a '(__llm_log_sessions)'
complete -c llm-log -n '__llm_log_at show 0' -a last -d 'The newest request'
complete -c llm-log -n '__llm_log_at backup 0' -F
complete -c llm-log -s h -l help -d 'Print help and exit'
complete -c llm-log -s n -x -d 'At most N requests (0: all; default 20)'
complete -c llm-log -s q -l quiet -d 'Print no warnings'
complete -c llm-log -s V -l version -d 'Print the version and exit'
complete -c llm-log -s v -l verbose -d 'Debug output on stderr (-vv: SQL)'
complete -c llm-log -l by -x -a 'model provider day' -d 'Stats per model, provider or day'
complete -c llm-log -l config -r -F -d 'Read FILE as the last configuration layer'
complete -c llm-log -l cost -d 'Stats: chart the cost per day'
complete -c llm-log -l dry-run -d 'Prune, reprice: report, change nothing'
complete -c llm-log -l format -x -a 'csv jsonl' -d 'Export as CSV or JSON lines'
complete -c llm-log -l group -x -d 'Only the requests of one compare or chain run'
complete -c llm-log -l json -d 'Print JSON'
complete -c llm-log -l keep -x -d 'Prune all but the newest N requests'
complete -c llm-log -l model -x -a '(__llm_models)' -d 'Only requests made with this model'
complete -c llm-log -l older-than -x -d 'Prune the requests older than AGE (30d, DATE)'
complete -c llm-log -l provider -x -a '(__llm_log_providers)' -d 'Only requests to this provider'
complete -c llm-log -l session -x -k -a '(__llm_log_sessions)' -d 'Only the requests of this session'
complete -c llm-log -l since -x -d 'Only from TIME on (30m, 24h, 7d, DATE)'
complete -c llm-log -l status -x -a 'ok error interrupted' -d 'Only requests with this status'
complete -c llm-log -l until -x -d 'Only before TIME'
