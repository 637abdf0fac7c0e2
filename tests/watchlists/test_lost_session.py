"""A refresh from a page whose session has gone sends the browser to sign in, then back."""

from django.urls import reverse


def test_an_htmx_request_without_a_session_is_sent_to_the_login_page_with_the_page_to_come_back_to(
    anon_client, make_watchlist
):
    watchlist = make_watchlist()
    page = f"/watchlists/{watchlist.pk}/?state=failed"
    response = anon_client.get(
        reverse("watchlist_live", args=[watchlist.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )
    assert response.status_code == 204
    assert (
        response["HX-Redirect"] == "/accounts/login/?next=%2Fwatchlists%2F" + str(watchlist.pk) + "%2F%3Fstate%3Dfailed"
    )


def test_a_plain_request_without_a_session_is_redirected_as_before(anon_client, make_watchlist):
    response = anon_client.get(make_watchlist().get_absolute_url())
    assert response.status_code == 302 and "HX-Redirect" not in response
