#!/bin/sh
# The demo: a generated UW-IMAP spool in a temp dir, converted into
# Dovecot maildirs by the freshly built program.  No root needed.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
prog="$top/$BUILD/mbox2dovecot"
demo=$(mktemp -d /tmp/mbox2dovecot-demo.XXXXXX)

echo "== a UW-IMAP spool with 2 users, generated in $demo"
python3 "$top/tests/tools/gen-spool.py" --seed 1 --out "$demo" --users 2 \
	--messages 20 --tz UTC >/dev/null
(cd "$demo" && find spool home -type f | sort)

for home in "$demo"/home/*; do
	user=$(basename "$home")
	echo
	echo "== $user: INBOX and every folder under ~/mail"
	TZ=UTC "$prog" convert "$demo/spool/$user" "$demo/target/$user"
	(cd "$home/mail" && find . -type f | sed 's|^\./||' | sort) |
	while IFS= read -r folder; do
		printf '%-28s ' "$folder"
		TZ=UTC "$prog" convert "$home/mail/$folder" \
			"$demo/target/$user" --folder "$folder" 2>&1 |
			tail -n 1
	done
done

echo
echo "== the maildirs Dovecot will read"
(cd "$demo/target" && find . -maxdepth 2 -type d | sort)
user=$(ls "$demo/home" | head -n 1)
echo
echo "== $demo/target/$user/dovecot-uidlist (UW's UIDVALIDITY and UIDs kept)"
head -n 4 "$demo/target/$user/dovecot-uidlist"
echo
echo "The demo tree stays in $demo (rm -rf it when done)."
