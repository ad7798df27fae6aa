# bash completion for llm-log                               -*- shell-script -*-
#
# Installed as share/bash-completion/completions/llm-log; or source it.
#
# Model names come from the configuration files and session names from the
# log that "llm-log path" names (read with sqlite3).  Their text is only
# ever compared with the word being completed: never passed to compgen -W,
# eval or the like, which would expand it.
#
# _llm_config_files, _llm_models and _llm_filter are the same as in the
# llm-chat completion, which defines them too: keep the copies identical.

# Print the llm.ini files that exist, in the order llm-chat reads them.
# $1 is the --config FILE given on the command line, if any.
_llm_config_files()
{
	local f dir files=()

	if [[ -n ${LLM_DEFAULT_CONFIG+set} ]]; then
		files+=("$LLM_DEFAULT_CONFIG")
	else
		files+=(/usr/local/share/llm/llm.ini /usr/share/llm/llm.ini)
		# the PREFIX that llm-chat was installed to
		if f=$(type -P llm-chat); then
			dir=${f%/*}
			files+=("${dir%/*}/share/llm/llm.ini")
		fi
	fi
	files+=("${XDG_CONFIG_HOME:-$HOME/.config}/llm/llm.ini")
	if [[ -n $1 ]]; then
		files+=("$1")
	elif [[ -n ${LLM_CONFIG-} ]]; then
		files+=("$LLM_CONFIG")
	fi
	for f in "${files[@]}"; do
		[[ -f $f && -r $f ]] && printf '%s\n' "$f"
	done
}

# Print model aliases, group names and "PROVIDER/" prefixes, one a line.
_llm_models()
{
	local files=()

	mapfile -t files < <(_llm_config_files "$1")
	((${#files[@]})) || return 0
	awk '
	/^[ \t]*\[[^]]+\]/ {
		s = $0
		sub(/^[ \t]*\[/, "", s)
		sub(/\].*/, "", s)
		if (s ~ /^(model|group)\./)
			n = substr(s, 7)
		else if (s ~ /^provider\./)
			n = substr(s, 10)
		else
			next
		if (n !~ /^[-A-Za-z0-9._:@+]+$/)
			next
		if (s ~ /^provider/)
			n = n "/"
		if (!seen[n]++)
			print n
	}' "${files[@]}" 2>/dev/null
}

# Set COMPREPLY to the lines of stdin, quoted for the shell, that begin
# with $1; each prefixed with $2.
_llm_filter()
{
	local line

	COMPREPLY=()
	while IFS= read -r line; do
		printf -v line '%q' "$line"
		[[ $line == "$1"* ]] && COMPREPLY+=("$2$line")
	done
}

# Print the session names of the log, most recently used first.  $1 is
# the --config FILE given on the command line, if any.
_llm_log_sessions()
{
	local db

	type -P sqlite3 >/dev/null || return 0
	db=$(llm-log ${1:+--config "$1"} path 2>/dev/null) || return 0
	[[ -f $db ]] || return 0
	sqlite3 -readonly "$db" \
	    'select name from sessions order by updated_at desc' 2>/dev/null
}

# Print the provider names, one a line.
_llm_log_providers()
{
	local files=()

	mapfile -t files < <(_llm_config_files "$1")
	((${#files[@]})) || return 0
	awk '
	/^[ \t]*\[provider\.[-A-Za-z0-9._:@+]+\]/ {
		s = $0
		sub(/^[ \t]*\[provider\./, "", s)
		sub(/\].*/, "", s)
		if (!seen[s]++)
			print s
	}' "${files[@]}" 2>/dev/null
}

_llm_log()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' pfx='' opt config='' i
	local word verb='' sub='' nargs=0 dashdash=''
	local opts='-h --help -n -q --quiet -V --version -v --verbose --by
	    --config --cost --dry-run --format --group --json --keep --model
	    --older-than --provider --session --since --status --until --'
	local verbs='list show search sessions stats export prune path backup
	    reprice'

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# --opt=value, which bash splits into "--opt" "=" "value"
	if [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		# "=" not in COMP_WORDBREAKS: the whole word is replaced
		prev=${cur%%=*}
		pfx=$prev=
		cur=${cur#*=}
	fi

	# the command, its arguments so far, and an earlier --config FILE
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -z $dashdash ]]; then
			case $word in
			--)
				dashdash=1
				continue
				;;
			--config)
				if [[ ${COMP_WORDS[i + 1]} == = ]]; then
					config=${COMP_WORDS[i + 2]}
				else
					config=${COMP_WORDS[i + 1]}
				fi
				;;&
			--config=*)
				config=${word#--config=}
				;;&
			-n | --by | --config | --format | --group | --keep | \
			    --model | --older-than | --provider | --session | \
			    --since | --status | --until)
				# the value, and the "=" that bash may split off
				[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
				((i++))
				continue
				;;
			-*)
				continue
				;;
			esac
		fi
		if [[ -z $verb ]]; then
			verb=$word
		else
			((nargs == 0)) && sub=$word
			((nargs++))
		fi
	done
	# a literal "~/" as typed (nothing is expanded here)
	# shellcheck disable=SC2088
	[[ $config == "~/"* ]] && config=$HOME/${config#"~/"}

	if [[ -z $dashdash ]]; then
		case $prev in
		--config)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			if [[ -n $pfx ]]; then
				for i in "${!COMPREPLY[@]}"; do
					COMPREPLY[i]=$pfx${COMPREPLY[i]}
				done
			fi
			return 0
			;;
		--by)
			_llm_filter "$cur" "$pfx" < <(printf '%s\n' model provider day)
			return 0
			;;
		--format)
			_llm_filter "$cur" "$pfx" < <(printf '%s\n' csv jsonl)
			return 0
			;;
		--status)
			_llm_filter "$cur" "$pfx" \
			    < <(printf '%s\n' ok error interrupted)
			return 0
			;;
		--model)
			_llm_filter "$cur" "$pfx" < <(_llm_models "$config")
			if ((${#COMPREPLY[@]} == 1)) &&
			    [[ ${COMPREPLY[0]} == */ ]]; then
				compopt -o nospace 2>/dev/null
			fi
			return 0
			;;
		--provider)
			_llm_filter "$cur" "$pfx" < <(_llm_log_providers "$config")
			return 0
			;;
		--session)
			_llm_filter "$cur" "$pfx" < <(_llm_log_sessions "$config")
			return 0
			;;
		-n | --group | --keep | --older-than | --since | --until)
			return 0
			;;
		esac
		# the value of another --opt=value
		[[ -n $pfx ]] && return 0

		if [[ $cur == -* ]]; then
			for opt in $opts; do
				[[ $opt == "$cur"* ]] && COMPREPLY+=("$opt")
			done
			return 0
		fi
	fi

	if [[ -z $verb ]]; then
		for word in $verbs; do
			[[ $word == "$cur"* ]] && COMPREPLY+=("$word")
		done
		return 0
	fi
	case $verb in
	sessions)
		if ((nargs == 0)); then
			for word in list show rm rename; do
				[[ $word == "$cur"* ]] && COMPREPLY+=("$word")
			done
		elif [[ $sub == show || $sub == rm || $sub == rename ]] &&
		    ((nargs == 1)); then
			_llm_filter "$cur" '' < <(_llm_log_sessions "$config")
		fi
		;;
	show)
		((nargs == 0)) && [[ last == "$cur"* ]] && COMPREPLY=(last)
		;;
	backup)
		if ((nargs == 0)); then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	esac
	return 0
}

complete -F _llm_log llm-log
