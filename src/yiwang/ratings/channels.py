"""Which 评价渠道 a web rating came through, from the browser's user agent."""

import re

from yiwang.ratings.models import Rating

WEB_CHANNELS = (Rating.Channel.PC, Rating.Channel.MOBILE, Rating.Channel.QR_CODE)
_MOBILE = re.compile(r"Mobi|Android|iPhone|iPad|iPod|HarmonyOS|MicroMessenger|AlipayClient", re.I)


def channel_for_user_agent(user_agent: str) -> str:
    """移动端 for phones, tablets and in-app browsers, else PC."""
    return Rating.Channel.MOBILE if _MOBILE.search(user_agent or "") else Rating.Channel.PC
