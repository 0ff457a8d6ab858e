"""Signing in as a shop's user in the web tests."""

import re

from sqlmodel import Session

from replenish.core.types import Locale
from replenish.db.queries.users import create_user


def csrf_of(page_text):
    return re.search(r'name="csrf" value="([^"]+)"', page_text)[1]


def add_user(engine, shop_id, email="owner@wangs-rice.tw", password="tape-and-notebook",
             locale=Locale.EN):
    from replenish.db.models import Shop

    with Session(engine) as session:
        create_user(session=session, shop=session.get(Shop, shop_id), email=email,
                    password=password, name="Owner", locale=locale)
        session.commit()
    return email, password


def sign_in(client, email, password):
    csrf = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": csrf, "email": email,
                                           "password": password, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
