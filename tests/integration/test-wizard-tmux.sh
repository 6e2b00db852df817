#!/bin/sh
# SPDX-License-Identifier: MIT
# The wizard in a real terminal: a private tmux server at 80x24 runs
# mbox2dovecot on a practice server (mbox2dovecot sandbox: a generated
# spool, a private Dovecot); keys are sent, the screen is read back with
# capture-pane.  Walks the checks, the confirmations (No by default), the
# user list, the renames (a suggested name accepted, a typed one checked),
# the test subset (space), Dovecot on its test port, the test migration
# (Esc stops it when it is still running), resizes in the middle (larger,
# and too small), quits with q, starts again: resume is offered and it
# goes on; the IMAP test against the private Dovecot.  Settings
# an editor left invalid (no crash: the parse error with its line), Tab
# (the page without the step list), each change shown in the question, a
# refused IMAP password asked again, undo following the dependencies
# (--undo and U, refused or the chain after one question), WORK/log and
# L with / in the wizard, the report's warnings and new-UID folders, an
# interrupted step, --step N too early, --help, --skip without --reason,
# and steps 14 to 22 in the wizard, then U on step 19.
set -u
BUILD=${BUILD:-build}
top=${M2D_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
case $BUILD in /*) prog=$BUILD/mbox2dovecot ;; *) prog=$top/$BUILD/mbox2dovecot ;; esac
n=0
ok() {	# STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if ! command -v tmux >/dev/null; then
	echo "ok 1 # SKIP tmux is not installed"
	exit 0
fi
t=$(mktemp -d /tmp/m2d-wizard.XXXXXX)
chmod 755 "$t"	# Dovecot's processes reach the sandbox
S="tmux -L m2dtest-$$"
cleanup() {
	$S kill-server 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- a practice server: mbox2dovecot sandbox (a generated UW-IMAP spool
# with names that need a rename, a private Dovecot when it is installed,
# stand-ins for the services, a mbox2dovecot.conf pointing at all of it)
sb=$t/sb
if ! "$prog" sandbox "$sb" >"$t/sandbox.log" 2>&1; then
	sed 's/^/# /' "$t/sandbox.log"
	echo "not ok 1 - mbox2dovecot sandbox builds the practice server"
	exit 1
fi
cleanup() {
	$S kill-server 2>/dev/null
	"$prog" sandbox --stop "$sb" >/dev/null 2>&1
	rm -rf "$t"
}
dovecot=0
command -v dovecot >/dev/null && [ -d "$sb/dovecot" ] && dovecot=1
conf=$sb/mbox2dovecot.conf

screen() { $S capture-pane -p -t w; }
# wait_for TEXT [SECONDS]: 0 when TEXT appears on the screen in time
wait_for() {
	i=0
	lim=$((${2:-10} * 10))
	while [ $i -lt "$lim" ]; do
		if screen 2>/dev/null | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "# waited for \"$1\"; the screen:" >&2
	screen 2>/dev/null | sed 's/^/#  /' >&2
	return 1
}
keys() { $S send-keys -t w "$@"; }
# page_until TEXT: PageDown (up to 4 times) until TEXT is on the screen
page_until() {
	for _ in 1 2 3 4; do
		keys PageDown
		wait_for "$1" 1 2>/dev/null && return 0
	done
	wait_for "$1" 1
}
# The settings editor (e): when $t/edit says "break", it appends a line
# libconfuse refuses (the config kept as .good); otherwise it does nothing.
cat >"$t/editor" <<EOF
#!/bin/sh
if [ "\$(cat '$t/edit' 2>/dev/null)" = break ]; then
	cp "\$1" "\$1.good"
	echo 'test_port 1043 55017' >>"\$1"
fi
EOF
chmod 755 "$t/editor"
start() {	# [VAR=VALUE]...: more of the wizard's environment
	$S new-session -d -s w -x 80 -y 24 \
		"cd '$t' && env LANG=C.UTF-8 LC_ALL=C.UTF-8 LANGUAGE= TERM=xterm-256color NO_COLOR=1 VISUAL='$t/editor' $* '$prog' --config '$conf' ${wargs:-}; echo WIZARD-EXIT=\$?; sleep 600"
}
# Ends the session and waits until its server is gone (a new session on
# a server still exiting fails: "server exited unexpectedly").
stop() {
	$S kill-session -t w 2>/dev/null
	i=0
	while $S has-session 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.2
}

start
wait_for "Step 0: Pre-migration checks"
ok $? "the wizard opens on step 0 with the step list"
screen | grep -q "22 .*Final report\|21 .*Check and double" ||
	screen | grep -q "↓"
ok $? "the step list scrolls (more steps than lines)"

# ---- 0: the checklist
keys Enter
wait_for "Passed " 60
ok $? "Enter runs the checks: the checklist with its counts"
screen | grep -Eq "^.*│ (PASS|WARN|FAIL) "
ok $? "the checklist shows PASS/WARN/FAIL per check"
keys Enter
wait_for "Close"
ok $? "Enter shows the details of a check"
keys Escape
if ! screen | grep -q "Status: done"; then
	keys s
	wait_for "Why is step 0 skipped"
	keys -l "practice spool"
	keys Enter
	wait_for "Status: skipped (practice spool)"
	ok $? "a failed check: the step is skipped with a reason"
else
	ok 0 "the checks passed"
fi

# ---- 1: a confirmation, No by default
keys n
wait_for "Step 1: Freeze accounts"
keys Enter
wait_for "Run this step?"
ok $? "a step that needs a Yes asks first"
keys Enter
wait_for "Not run: the answer was No"
ok $? "Enter alone answers No"
keys Enter
wait_for "Run this step?"
keys y
wait_for "Step 1 done"
ok $? "y confirms and the step runs"

# ---- 2, 3: work dir, users
keys Enter
wait_for "Step 2: Working directory"
keys Enter
wait_for "Step 2 done"
ok $? "step 2 runs"
keys Enter
keys Enter
wait_for "Step 3 done" 30
ok $? "step 3 finds the users"
screen | grep -q "alice"
ok $? "the user list shows the users"

# ---- 4: the renames
keys Enter
wait_for "Step 4: Folder list and names"
keys Enter
wait_for "need a new name or to be excluded" 30
ok $? "step 4 stops at the folder names that need a decision"
screen | tail -n 1 | grep -qF "F1 Help"
ok $? "at 80x24 step 4's key line keeps F1"
screen | grep -qF "v1_2 release (sug"
ok $? "the renames page shows a problem folder with a suggested name"
keys a
wait_for "→ v1_2 release"
ok $? "a accepts the suggestion"
keys e
wait_for "The new name of"
keys C-u
keys -l "a.b"
wait_for "separates levels"
ok $? "a name typed in the field is checked as it is typed"
keys C-u
keys -l "Trash"
wait_for "\"Trash\" is the name of another folder"
ok $? "the name of an existing folder is refused as it is typed"
keys Enter
sleep 0.3
screen | grep -q "The new name of"
ok $? "OK does not take a name that clashes"
keys Escape
keys A
wait_for "Every folder has a decision"
ok $? "A accepts every other suggestion"
keys o
wait_for "as UW had them (o)"
ok $? "o: the folders keep the names UW-IMAP showed"
grep -q 'folder_names = "uw"' "$sb/work/state"
ok $? "the choice of names is saved in the state"
keys o
wait_for "root-relative (o)"
ok $? "o again: names relative to the folder root"
keys Enter
wait_for "Step 4 done" 30
ok $? "step 4 is done once every name is decided"

# ---- 5: the test users
keys Enter
wait_for "test users chosen"
ok $? "the subset page proposes test users"
chosen=$(screen | sed -n 's/.*│ \([0-9]*\) test users* chosen.*/\1/p')
# space flips the first user: into the subset, or out of it
if screen | grep -q '│ \[x\] '"$(screen | sed -n 's/.*│ \[.\] \([a-z]*\) .*/\1/p' | head -n 1)"' '; then
	want=$((chosen - 1))
else
	want=$((chosen + 1))
fi
keys Space
wait_for "$want test user"
ok $? "space takes a user into or out of the subset ($chosen -> $want)"
keys Enter
wait_for "Step 5 done"
ok $? "the subset is saved"

# ---- 6: clear the target (destructive: Yes needed)
keys Enter
wait_for "Step 6: Clear the target"
keys Enter
wait_for "Run this step?"
keys y
wait_for "Step 6 done" 20
ok $? "step 6 runs after an explicit Yes"

# ---- 7: migrate-users
keys Enter
keys Enter
wait_for "Step 7 done" 30
ok $? "step 7 creates the test user's maildir"

# ---- 8: Dovecot on the test port (the sandbox's private Dovecot)
keys Enter
wait_for "Step 8:"
# e with an editor that leaves the settings invalid: the wizard shows the
# parse error with the file and the line, and goes on with the settings
# it had (it once crashed here)
echo break >"$t/edit"
keys e
wait_for "were not read again" 10
ok $? "settings left invalid by the editor: the wizard says so (no crash)"
line=$(grep -n '^test_port 1043 55017' "$conf" | cut -d: -f1)
screen | grep -q "mbox2dovecot.conf:$line:" && screen | grep -q "missing"
ok $? "the parse error names the file and the line ($line)"
keys Escape
wait_for "Settings not read:"
screen | grep -q "Step 8:"
ok $? "the page of step 8 is still there"
cp "$conf.good" "$conf"
rm -f "$t/edit"
if [ $dovecot -eq 1 ]; then
	# Tab: the page without the step list, its width for the diff
	keys Tab
	sleep 0.5
	! screen | grep -q "Pre-migration checks" &&
		screen | grep -q "^ +++ .*99-mbox2dovecot.conf"
	ok $? "Tab at 80x24: the page takes the whole width (the diff's file name whole)"
	keys Tab
	wait_for "Pre-migration checks"
	ok $? "Tab again: the step list is back"
	keys Enter
	wait_for "Run this step?"
	screen | grep -q "What it will do" && screen | grep -q "99-mbox2dovecot.conf"
	ok $? "step 8's question shows the change itself: the diff, the whole file name"
	keys y
	wait_for "Step 8 done" 40
	ok $? "step 8 puts the private Dovecot on its test port"
else
	keys s
	wait_for "Why is step 8 skipped"
	keys -l "no Dovecot installed"
	keys Enter
	wait_for "Step 8 skipped"
	ok $? "step 8 skipped with a reason (no Dovecot)"
fi
keys n

# ---- 9: the test migration, stopped, resized, quit, resumed
wait_for "Step 9: Test: migrate-folders"
keys Enter Escape
wait_for "Folders " 20
ok $? "the migration page shows the gauge with its figures"
if wait_for "Stopped." 30 2>/dev/null; then
	ok 0 "Esc stops the migration cleanly"
	stopped=1
	screen | grep -q "Status: pending (stopped before the end" &&
		! screen | grep -q "^.  9 ✗"
	ok $? "a stop is no failure: the step is pending, \"stopped before the end\""
else
	screen | grep -q "Step 9 done"
	ok $? "the migration ended before Esc could stop it"
	stopped=0
fi
$S resize-window -t w -x 100 -y 30
sleep 0.5
[ "$(screen | wc -l)" -eq 30 ] && screen | grep -q "Step 9: Test: migrate-folders"
ok $? "resized to 100x30 in the middle: the page is drawn again"
$S resize-window -t w -x 60 -y 20
wait_for "at least 80x24"
ok $? "below 80x24 the wizard asks for a larger terminal and waits"
$S resize-window -t w -x 80 -y 24
wait_for "Step 9: Test: migrate-folders"
ok $? "back at 80x24 the page returns"
keys q
wait_for "WIZARD-EXIT=0"
ok $? "q quits (the state is saved)"
stop

# a wrong IMAP password from the environment: step 10 asks again
start MBOX2DOVECOT_IMAP_PASSWORD=wrong-password
wait_for "A saved migration was found"
ok $? "started again: resume is offered"
keys Enter
if [ $stopped -eq 1 ]; then
	wait_for "Step 9: Test: migrate-folders"
	ok $? "Enter (Yes) goes on with the step where it stopped"
	keys Enter
	wait_for "Step 9 done" 60
	ok $? "the test migration completes after the resume"
else
	wait_for "Step 10: IMAP test"
	ok $? "Enter (Yes) goes on with the next step"
fi
target=$(sed -n 's/^target_base *= *"\(.*\)"/\1/p' "$conf")
u=$(ls "$target" | head -n 1)
[ -n "$u" ] && [ -d "$target/$u/cur" ] &&
	ls -d "$target/$u"/.[!.]* | grep -qv dovecot
ok $? "the test user's maildir holds the converted folders"

# ---- 10: the IMAP test against the real Dovecot
if [ $dovecot -eq 1 ]; then
	if ! screen | grep -q "Step 10: IMAP test"; then
		keys Enter
		wait_for "Step 10: IMAP test"
	fi
	keys Enter
	wait_for "Step 10 failed" 60 && screen | grep -q "IMAP test failed on"
	ok $? "step 10 with a wrong password: the whole error in a dialog"
	keys Escape
	wait_for "The login was refused: Enter asks"
	ok $? "the login is refused: the message says Enter asks again"
	keys Enter
	wait_for "was refused.  Its"
	ok $? "Enter asks for the password again"
	keys -l "$(sed -n 's/^imap_test_password *= *"\(.*\)"/\1/p' "$conf")"
	keys Enter
	wait_for "Step 10 done" 60
	ok $? "step 10: the IMAP test passes against the private Dovecot"
	# as every test user: "PASS  login  alice: ..."
	wd=$(sed -n 's/^work_dir *= *"\(.*\)"/\1/p' "$conf")
	users=$(sed -n 's/^test_users = {\(.*\)}/\1/p' "$wd/state" |
		tr ',' '\n' | grep -c .)
	screen | grep -q "PASS .*login" && screen | grep -q "PASS .*counts" &&
		if [ "${users:-2}" -gt 1 ]; then
			screen | grep -q "Every check passed ($users users)"
		else
			screen | grep -q "Every check passed\."
		fi
	ok $? "the IMAP page lists each check of each test user with PASS"
	grep -o '\[10\] .*IMAP test as [^ ]* on' "$wd/log" | sort -u |
		wc -l | grep -qx "${users:-2}"
	ok $? "the log has the IMAP test of each test user (${users:-2})"
else
	echo "ok $((n + 1)) # SKIP the IMAP test needs Dovecot installed"
	echo "ok $((n + 2)) # SKIP the IMAP test needs Dovecot installed"
	n=$((n + 2))
fi
keys F1
wait_for "The runbook says:"
ok $? "F1 shows what the runbook says and what we do"
keys Escape
# back to step 0: run in the earlier session, its list is not kept, its
# result and time are
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do keys b; done
wait_for "The checks ran on"
ok $? "after the restart, step 0 says when its checks ran and what they found"
screen | tail -n 1 | grep -q "Enter Next  r Again"
ok $? "its key line says what Enter does there: the next step"
keys q
wait_for "WIZARD-EXIT=0"
ok $? "q quits again"
grep -q done "$sb/work/state" 2>/dev/null ||
	grep -rqs done "$(sed -n 's/^work_dir *= *"\(.*\)"/\1/p' "$conf")/state"
ok $? "the state file holds the steps done"

# ---- undo follows the dependencies: step 10 (the IMAP test) relies on
# step 8 (Dovecot's test listener)
st() {	# the status of step $1 in --status
	"$prog" --config "$conf" --status | awk -v s="$1" '
		{ sub(/^>/, " ") } $1 == s { for (i = 2; i <= NF; i++)
			if ($i ~ /^(pending|running|done|failed|skipped)$/) {
				print $i; exit } }'
}
if [ $dovecot -eq 1 ] && [ "$(st 10)" = done ]; then
	"$prog" --config "$conf" --undo 8 </dev/null >"$t/undo.out" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "10  IMAP test" "$t/undo.out" &&
		grep -q "nothing undone" "$t/undo.out"
	ok $? "--undo 8 while step 10 relies on it: refused, naming step 10 (exit $rc)"
	[ "$(st 8)" = done ] && [ "$(st 10)" = done ]
	ok $? "--status: both still done"
	stop
	start
	wait_for "A saved migration was found"
	keys Escape
	wait_for "Step 0:"
	for i in 1 2 3 4 5 6 7 8; do keys n; done
	wait_for "Step 8: Dovecot on the alternate port"
	keys U
	wait_for "relies on this one" 10 && screen | grep -q "10 IMAP test"
	ok $? "U on step 8 lists step 10, which relies on it, in one question"
	keys y
	wait_for "Step 8 undone, and the 1 step that relied on it" 40
	ok $? "y undoes step 10, then step 8"
	screen | grep -q "^> 8   Dovecot" && screen | grep -q "^ 10   IMAP test"
	ok $? "the step list shows steps 8 and 10 pending again"
	keys q
	wait_for "WIZARD-EXIT=0"
	[ "$(st 8)" = pending ] && [ "$(st 10)" = pending ] &&
		grep -q "relies on\|relied on\|undone" "$(sed -n 's/^work_dir *= *"\(.*\)"/\1/p' "$conf")/state"
	ok $? "--status: steps 8 and 10 pending after the undo"
else
	echo "ok $((n + 1)) # SKIP the undo test needs Dovecot and step 10 done"
	n=$((n + 1))
fi

# ---- the log and the report: the runbook through step 13 (the sandbox's
# erin/saved-messages is a plain mbox: new UIDs, its client downloads it
# again), then L in the wizard
work=$(sed -n 's/^work_dir *= *"\(.*\)"/\1/p' "$conf")
if [ $dovecot -eq 1 ]; then
	"$prog" --config "$conf" --batch --yes --to 13 >"$t/batch.out" 2>&1
	ok $? "--batch --yes --to 13 runs steps 8 to 13 again"
	[ "$(stat -c %a "$work/log")" = 600 ] &&
		grep -q '^20[0-9-]* [0-9:]* \[8\] undone: ' "$work/log" &&
		grep -q '^20[0-9-]* [0-9:]* \[13\] redownload: erin/saved-messages' "$work/log" &&
		grep -q '^20[0-9-]* [0-9:]* \[13\] warning: erin/saved-messages: .*no UW UID data' "$work/log"
	ok $? "WORK/log (0600): the undo, step 13's warning and the folder with new UIDs, with times"
	"$prog" --config "$conf" --report >/dev/null 2>&1 &&
		sed -n '/^Folders whose mail clients download them again/,/^$/p' "$work/report.txt" >"$t/redl" &&
		grep -q '^  erin$' "$t/redl" &&
		grep -q '^    saved-messages: .*no UW UID data' "$t/redl" &&
		sed -n '/^Warnings and errors/,/^$/p' "$work/report.txt" |
		grep -q '\[13\] erin/saved-messages: .*no UW UID data'
	ok $? "the report lists every warning, and by user the folders that clients download again and why"
	stop
	start
	wait_for "A saved migration was found"
	keys Enter
	wait_for "Step 14:"
	keys L
	wait_for "Log: $work/log"
	screen | grep -q "\[13\] done: " && screen | grep -q "\[13\] redownload: erin"
	ok $? "L opens the log at its newest lines"
	keys /
	wait_for "Find in the log"
	keys -l "saved-messages"
	keys Enter
	wait_for '"saved-messages": line '
	ok $? "/ searches the log"
	keys PPage
	keys Escape
	wait_for "Step 14:"
	ok $? "Esc goes back from the log to the step"
	keys q
	wait_for "WIZARD-EXIT=0"
	stop
else
	echo "ok $((n + 1)) # SKIP the log test needs Dovecot (steps 8 to 13)"
	n=$((n + 1))
fi

# ---- a run killed in the middle of a step: the step says "interrupted"
if [ -f "$work/state" ]; then
	python3 - "$work/state" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'(step stop-mail \{\n  status = )pending', r'\1running', s)
s = re.sub(r'(step stop-mail \{\n  status = running\n  started = )0', r'\g<1>1700000000', s)
open(p, 'w').write(s)
PY
	"$prog" --config "$conf" --status | grep -q '^> *14 .*pending *interrupted: it was running since'
	ok $? "--status: the step a kill interrupted says so"
	start
	wait_for "A saved migration was found" &&
		screen | grep -q "Its last run: interrupted"
	ok $? "the resume question says the step was interrupted"
	keys Enter
	wait_for "Status: pending (interrupted"
	ok $? "the wizard: the interrupted step's page says so"
	keys q
	wait_for "WIZARD-EXIT=0"
	stop
fi

# ---- --step N on a step that cannot start yet: its page says why
if [ -f "$work/state" ]; then
	wargs="--step 16"
	start
	wargs=
	wait_for "Step 16: IMAP test again"
	wait_for "Not yet: step 15"
	ok $? "--step 16 before step 15: the page says why it cannot run yet"
	keys q
	wait_for "WIZARD-EXIT=0"
	stop
fi

# ---- --undo N on a terminal: the chain listed, one question (No)
if [ $dovecot -eq 1 ] && [ "$(st 10)" = done ]; then
	$S new-session -d -s w -x 80 -y 24 \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 LANGUAGE= '$prog' --config '$conf' --undo 8; echo UNDO-EXIT=\$?; sleep 600"
	wait_for "[y/N]" && screen | grep -q "10  IMAP test"
	ok $? "--undo 8 on a terminal lists step 10 and asks once"
	keys n Enter
	wait_for "UNDO-EXIT=4" && [ "$(st 8)" = done ] && [ "$(st 10)" = done ]
	ok $? "No: nothing undone (exit 4)"
	stop
fi

# ---- the command line: --help lists every option; a missing --reason
"$prog" --help >"$t/help.out" 2>&1
ok=0
for o in --config --resume --step --from --to --yes --confirm --force \
	--status --report --undo --skip --reason --format --batch --check \
	/etc/mbox2dovecot.conf; do
	grep -q -- "$o" "$t/help.out" || { echo "# --help lacks $o"; ok=1; }
done
ok $ok "--help lists every option and the default config path"
"$prog" --config "$conf" --skip 8 >"$t/skip.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q -- "--skip 8 needs --reason TEXT" "$t/skip.out"
ok $? "--skip 8 without --reason says what is missing (exit $rc)"

# ---- the rest of the runbook in the wizard at 80x24 (14 to 22), then U
# on step 19 with 20-22 done: they are undone first (the issue's case)
if [ $dovecot -eq 1 ] && [ "$(st 13)" = done ]; then
	start
	wait_for "A saved migration was found"
	keys Enter
	wait_for "Step 14: Stop delivery"
	all=0
	skel=1
	for s in 14 15 16 17 18 19 20 21 22; do
		wait_for "Step $s:" 10 >/dev/null 2>&1 || { all=1; break; }
		if [ $s -eq 19 ]; then
			# the skeleton's new directories, before they are made:
			# on the page, in F1 and in the question
			wait_for "The skeleton of new accounts" 5 &&
				keys F1 && wait_for "What it will do:" 5 &&
				page_until "etc/skel/tmp" && skel=0
			keys Escape
			sleep 0.5	# not Alt-Enter
		fi
		keys Enter
		case $s in 14|17|19)
			wait_for "Run this step?" 10 || { all=1; break; }
			if [ $s -eq 19 ]; then
				page_until "mkdir $sb/root/etc/skel/new" ||
					skel=1
			fi
			keys y ;;
		esac
		wait_for "Step $s done" 90 || { all=1; break; }
		[ $s -lt 22 ] && keys Enter
	done
	[ $all -eq 0 ] && [ "$(st 22)" = done ]
	ok $? "steps 14 to 22 in the wizard at 80x24, each confirmed where it asks"
	ok $skel "step 19 shows its /etc/skel changes first: page, F1, question"
	keys b b b
	wait_for "Step 19: Delivery into the maildirs"
	keys U
	wait_for "rely on this one" && screen | grep -q "22 Final report" &&
		screen | grep -q "20 Restart delivery"
	ok $? "U on step 19: steps 22, 21 and 20 listed in one question"
	keys y
	wait_for "Step 19 undone, and the 3 steps that relied on it" 60
	ok $? "y: 22, 21, 20 undone first, then 19"
	keys q
	wait_for "WIZARD-EXIT=0"
	stop
	[ "$(st 19)" = pending ] && [ "$(st 20)" = pending ] &&
		[ "$(st 21)" = pending ] && [ "$(st 22)" = pending ] &&
		[ "$(st 18)" = done ]
	ok $? "--status: 19 to 22 pending, 18 still done"
	grep -q '\[20\] undone: ' "$work/log" && grep -q '\[19\] undone: ' "$work/log" &&
		[ "$(grep -n '\[20\] undone: ' "$work/log" | tail -n 1 | cut -d: -f1)" -lt \
		  "$(grep -n '\[19\] undone: ' "$work/log" | tail -n 1 | cut -d: -f1)" ]
	ok $? "the log: 20 undone before 19"
fi
