"""An admin sends a file to the bot in private: partners' fact-checks are imported."""

from __future__ import annotations

import asyncio
import io

from telegram import Update
from telegram.ext import ContextTypes

from factdb.interchange import importer
from handlers.common import is_admin, reply, services
from handlers.review.guard import require_admin
from handlers.views import texts

MAX_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or message.document is None:
        return
    if not await is_admin(svc, user.id):
        from handlers.citizen.unsupported import unsupported

        await unsupported(update, context)  # to a citizen, a file is just something we can't read
        return
    t = await require_admin(update, context)
    assert t is not None
    doc = message.document
    if doc.file_size and doc.file_size > MAX_BYTES:
        await reply(
            update,
            context,
            t._("That file is too big (over 20 MB). Use `crowdcheck import FILE` on the server."),
        )
        return
    file = await doc.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        report = await asyncio.to_thread(
            importer.import_stream, svc.db, io.BytesIO(data), name=doc.file_name or "upload", size=len(data)
        )
    except importer.ImportFailed as exc:
        await reply(
            update,
            context,
            t._("I couldn't import that file: {reason}").format(reason=texts.isolate(str(exc))),
        )
        return
    await svc.db.run(svc.index.refresh)
    lines = [
        t._("Imported: {added} added, {updated} updated, {skipped} skipped.").format(
            added=t.number(report.added),
            updated=t.number(report.updated),
            skipped=t.number(len(report.problems)),
        )
    ]
    lines += [f"• {texts.isolate(p.where)}: {texts.isolate(p.reason)}" for p in report.problems[:10]]
    await reply(update, context, "\n".join(lines))
