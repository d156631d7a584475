#!/usr/bin/env python3
"""Drives BriefSync's Google Reader API with the PyPI package google-reader (by the Miniflux
author), a client nobody at BriefSync wrote:

    reader_api_flow.py BASE_URL USER PASSWORD

BASE_URL is the API root, http://HOST/greader. Signs in, reads the write token and the user,
lists the subscriptions, unsubscribes from feed/climate and subscribes again, lists the tags, and
checks that a wrong password and a forged token are refused as the client expects. Prints the
subscriptions after each step as JSON lines, then "ok"; exits 1 at the first surprise.
"""
import json
import sys

import google_reader


def fail(message):
    print(message)
    sys.exit(1)


def main():
    base, user, password = sys.argv[1:4]
    client = google_reader.Client(base)
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
    print("ok")


main()
