#!/usr/bin/env python3
"""Drives BriefSync's Google Reader API with the PyPI package google-reader (by the Miniflux
author), a client nobody at BriefSync wrote:

    reader_api_flow.py BASE_URL USER PASSWORD [items | state]

BASE_URL is the API root, http://HOST/greader. Signs in, reads the write token and the user,
lists the subscriptions, unsubscribes from feed/climate and subscribes again, lists the tags, and
checks that a wrong password and a forged token are refused as the client expects. Prints the
subscriptions after each step as JSON lines, then "ok"; exits 1 at the first surprise.

With "items" it goes on, on a user who follows ai-tech and climate with one brief each, both
unread: lists item ids with each filter and with continuation paging, fetches the contents,
marks with edit-tag in each id form and with mark-all-as-read, and leaves ai-tech read and
climate starred and unread.

With "state" it only signs in and prints, as one JSON line, the feeds of the read, starred and
unread items: {"read": [...], "starred": [...], "unread": [...]}.
"""
import json
import sys

import google_reader


def fail(message):
    print(message)
    sys.exit(1)


def main():
    base, user, password = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else "subscriptions"
    client = google_reader.Client(base)
    if mode == "state":
        auth = client.login(user, password)
        print(json.dumps(state(client, auth)))
        return
    try:
        client.login(user, password + "-wrong")
        fail("a wrong password was accepted")
    except google_reader.AuthenticationError:
        pass
    auth = client.login(user, password)
    write_token = client.get_token(auth)
    if not write_token:
        fail("no write token")
    info = client.get_user_info(auth)
    if info.user_name != user:
        fail("user-info names %r" % info.user_name)

    def subscriptions():
        listed = sorted(s.id for s in client.list_subscriptions(auth))
        print(json.dumps(listed))
        return listed

    before = subscriptions()
    if "feed/climate" not in before:
        fail("feed/climate is not subscribed: %s" % before)
    client.edit_subscription(auth, write_token, "feed/climate", "unsubscribe")
    if "feed/climate" in subscriptions():
        fail("unsubscribe did not take")
    client.edit_subscription(auth, write_token, "feed/climate", "subscribe")
    if subscriptions() != before:
        fail("subscribe did not take")
    try:
        client.edit_subscription(auth, "forged", "feed/climate", "unsubscribe")
        fail("a forged write token was accepted")
    except google_reader.AuthenticationError:
        pass
    tags = [t.id for t in client.list_tags(auth)]
    if "user/-/state/com.google/starred" not in tags:
        fail("tag/list lacks starred: %s" % tags)
    forged = google_reader.AuthToken(TokenType="GoogleLogin", AccessToken="bs1_forged")
    try:
        client.get_user_info(forged)
        fail("a forged session was accepted")
    except google_reader.AuthenticationError:
        pass
    if mode == "items":
        items(client, auth, write_token)
    print("ok")


READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"


def ids(client, auth, stream, **options):
    """Every item id of a stream, page by page with n=1 and the continuation, as int."""
    listed, continuation = [], None
    while True:
        page = client.get_stream_items_ids(auth, stream, limit=1, continuation=continuation, **options)
        listed += [int(ref.id) for ref in page.item_refs]
        if not page.continuation:
            return listed
        if len(listed) > 100:
            fail("the continuation never ends")
        continuation = page.continuation


def feeds(client, auth, write_token, item_ids):
    """The feeds of the items, by their contents (the short decimal form of each id)."""
    if not item_ids:
        return []
    contents = client.get_stream_items_contents(auth, write_token, [str(i) for i in item_ids])
    return sorted(item.origin.stream_id for item in contents.items)


def state(client, auth):
    write_token = client.get_token(auth)
    return {
        "read": feeds(client, auth, write_token, ids(client, auth, READ)),
        "starred": feeds(client, auth, write_token, ids(client, auth, STARRED)),
        "unread": feeds(client, auth, write_token, ids(client, auth, READING_LIST, exclude_target=READ)),
    }


def expect(what, got, wanted):
    if got != wanted:
        fail("%s: %r, expected %r" % (what, got, wanted))


def items(client, auth, write_token):
    newest = client.get_stream_items_ids(auth, READING_LIST, limit=10)
    everything = [int(ref.id) for ref in newest.item_refs]
    expect("one page has no continuation", newest.continuation, "")
    expect("two briefs", len(everything), 2)
    expect("pages of one", ids(client, auth, READING_LIST), everything)
    expect("oldest first", ids(client, auth, READING_LIST, direction="asc"), everything[::-1])
    expect("nothing read yet", ids(client, auth, READ), [])
    expect("unread", ids(client, auth, READING_LIST, exclude_target=READ), everything)
    contents = client.get_stream_items_contents(auth, write_token, [str(i) for i in everything])
    by_feed = {}
    for item in contents.items:
        by_feed[item.origin.stream_id] = item
        for part in ("Key takeaways", "Source Intelligence", "<blockquote>"):
            if part not in item.content.content:
                fail("%s lacks %r" % (item.id, part))
        if not item.id.startswith("tag:google.com,2005:reader/item/") or not item.title:
            fail("item %r" % item)
    expect("feeds of the contents", sorted(by_feed), ["feed/ai-tech", "feed/climate"])
    ai = int(by_feed["feed/ai-tech"].id.rsplit("/", 1)[1], 16)
    climate = int(by_feed["feed/climate"].id.rsplit("/", 1)[1], 16)
    expect("the feed's stream", ids(client, auth, "feed/climate"), [climate])
    # ot is when the server received a brief, in seconds: the item id's microseconds
    received = {int(item.timestamp_usec) for item in contents.items}
    expect("timestampUsec is the item id", received, {ai, climate})
    expect("received since", ids(client, auth, READING_LIST, start_time=max(1, min(received) // 10**6)), everything)
    expect("received later", ids(client, auth, READING_LIST, start_time=max(received) // 10**6 + 1), [])

    # edit-tag in each id form: long and padded, short decimal, long without the padding
    client.edit_tags(auth, write_token, [google_reader.get_long_item_id(ai)], add_tags=[READ])
    client.edit_tags(auth, write_token, [str(climate)], add_tags=[STARRED])
    expect("read", ids(client, auth, READ), [ai])
    expect("starred", ids(client, auth, STARRED), [climate])
    expect("unread", ids(client, auth, READING_LIST, exclude_target=READ), [climate])
    client.edit_tags(auth, write_token, ["tag:google.com,2005:reader/item/%x" % ai], remove_tags=[READ])
    expect("read after unmarking", ids(client, auth, READ), [])
    # mark-all-as-read on one feed leaves the other unread
    client.mark_all_as_read(auth, write_token, "feed/ai-tech")
    expect("read after mark-all-as-read", ids(client, auth, READ), [ai])
    # with ts, only what the server received until then (ai-tech came first)
    client.mark_all_as_read(auth, write_token, READING_LIST, before_timestamp=climate - 1)
    expect("read after mark-all-as-read until ts", ids(client, auth, READ), [ai])
    try:
        client.mark_all_as_read(auth, write_token, "feed/no-such-topic")
        fail("mark-all-as-read of no feed was accepted")
    except google_reader.ResourceNotFoundError:
        pass
    expect("the state left", state(client, auth),
           {"read": ["feed/ai-tech"], "starred": ["feed/climate"], "unread": ["feed/climate"]})


main()
