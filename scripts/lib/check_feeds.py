#!/usr/bin/env python3
"""Reads a topic's feeds with parsers nobody at BriefSync wrote, and checks that every element
of a brief survived: Atom with feedparser, JSON Feed with jsonfeed-util (whose Feed.parse_string
refuses a feed that lacks a required field).

    check_feeds.py FEED_JSON FEED_ATOM BRIEF_JSON [ID ...]

FEED_JSON and FEED_ATOM are files holding what the server answered; BRIEF_JSON is the brief as
published. The IDs, when given, are the item ids both feeds must list, in that order (newest
first). Prints one line per problem and exits 1 if there is any; prints "ok" otherwise.
"""
import html
import json
import re
import sys

import feedparser
import jsonfeed


def texts(brief):
    """Every text of the brief a reader must see, as the reader shows it."""
    counts = brief["sourceCounts"]
    out = [brief["title"], "from %d podcasts, %d episodes" % (counts["podcasts"], counts["episodes"])]
    out += brief["takeaways"] + ([brief["sourcesSubtitle"]] if brief.get("sourcesSubtitle") else [])
    for block in brief["body"]:
        if block["type"] == "paragraph":
            out.append(block["text"])
        else:
            out += [block["text"], block["speaker"], block["show"]]
    for source in brief["sources"]:
        out += [source["title"]] + [source[k] for k in ("show", "host") if source.get(k)]
        out += source["highlights"]
        for category in source.get("alsoFromEpisode", []):
            out += ["%s (%d)" % (category["name"], len(category["items"]))] + category["items"]
    return out


def plain(fragment):
    """The text of an HTML fragment, as a reader shows it: tags dropped, entities undone."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def main():
    json_path, atom_path, brief_path, *order = sys.argv[1:]
    with open(brief_path, encoding="utf-8") as f:
        brief = json.load(f)
    problems = []

    with open(json_path, encoding="utf-8") as f:
        raw = f.read()
    feed = jsonfeed.Feed.parse_string(raw)
    ids = [item.id for item in feed.items]
    if order and ids[: len(order)] != order:
        problems.append("JSON Feed items %s, expected %s first" % (ids, order))
    item = next((i for i in feed.items if i.id == brief["id"]), None)
    if item is None:
        problems.append("JSON Feed has no item %s" % brief["id"])
    else:
        if item.title != brief["title"]:
            problems.append("JSON Feed title %r" % item.title)
        if not str(item.date_published).startswith(brief["date"]):
            problems.append("JSON Feed date_published %r" % item.date_published)
        shown = plain(item.content_html)
        problems += ["JSON Feed content_html lacks %r" % t for t in texts(brief) if t not in shown and t != brief["title"]]
        extension = next(i for i in json.loads(raw)["items"] if i["id"] == brief["id"])["_briefsync"]["brief"]
        if extension != brief:
            problems.append("the _briefsync extension is not the brief as published")

    atom = feedparser.parse(open(atom_path, "rb").read())
    if atom.bozo:
        problems.append("feedparser: %s" % atom.bozo_exception)
    if atom.version != "atom10":
        problems.append("feedparser read %r, not Atom 1.0" % atom.version)
    entry_ids = [e.id for e in atom.entries]
    if order and entry_ids[: len(order)] != ["urn:briefsync:brief:" + i for i in order]:
        problems.append("Atom entries %s, expected %s first" % (entry_ids, order))
    entry = next((e for e in atom.entries if e.id == "urn:briefsync:brief:" + brief["id"]), None)
    if entry is None:
        problems.append("Atom has no entry %s" % brief["id"])
    else:
        if entry.title != brief["title"]:
            problems.append("Atom title %r" % entry.title)
        if not entry.published.startswith(brief["date"]):
            problems.append("Atom published %r" % entry.published)
        if [t.term for t in entry.tags] != [brief["topic"]["id"]]:
            problems.append("Atom category %r" % [t.term for t in entry.tags])
        shown = plain(entry.content[0].value)
        problems += ["Atom content lacks %r" % t for t in texts(brief) if t not in shown and t != brief["title"]]

    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print("ok")


main()
