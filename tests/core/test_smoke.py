def test_home_lists_the_95_communes_of_lille(client, lille):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Métropole Européenne de Lille" in html
    assert html.count('href="/communes/') == 95
