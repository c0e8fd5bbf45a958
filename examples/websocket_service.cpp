// A websocket chat: `tomodachi run examples/websocket_service.cpp`, then open
// http://localhost:9700/ in two browser tabs. The page (websocket_service.html) is
// served from this folder; every text message is broadcast to all connected clients.
#include <tomodachi/tomodachi.hpp>

#include <filesystem>
#include <fstream>
#include <list>

class WebsocketExample : public tomodachi::Service {
 public:
  WebsocketExample() : Service("websocket-example") {
    http<&WebsocketExample::page>("GET", "/");
    websocket<&WebsocketExample::chat>("/chat");
  }

  tomodachi::Task<tomodachi::Response> page(tomodachi::Request&) {
    std::ifstream file(std::filesystem::path(source_file()).parent_path() /
                       "websocket_service.html");
    std::string html((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    tomodachi::Response response(html);
    response.content_type = "text/html";
    response.charset = "utf-8";
    co_return response;
  }

  // Called once per connection after the upgrade; returns what to do with its messages.
  tomodachi::Task<tomodachi::WebsocketCallbacks> chat(tomodachi::Websocket& websocket,
                                                      tomodachi::Request& request) {
    auto self = clients_.insert(clients_.end(), websocket);
    std::string who =
        std::string(request.remote_ip()) + "#" + std::string(websocket.id().substr(0, 4));
    broadcast(who + " joined");
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [this, who](std::string text) -> tomodachi::Task<void> {
          broadcast(who + ": " + text);
          co_return;
        },
        .on_close = [this, self, who]() -> tomodachi::Task<void> {
          clients_.erase(self);
          broadcast(who + " left");
          co_return;
        }};
  }

 private:
  // One send task per client: a slow or stuck client delays only its own messages (and is
  // cut after http.websocket_idle_timeout), never the chat. The task returned by
  // send_str holds the connection, so it may outlive `client`, a loop copy.
  void broadcast(const std::string& text) {
    for (const auto& client : clients_) {
      if (!client.closed()) tomodachi::spawn(deliver(client, text), "chat-send");
    }
  }

  static tomodachi::Task<void> deliver(tomodachi::Websocket client, std::string text) {
    try {
      co_await client.send_str(std::move(text));
    } catch (const std::exception&) {
      // that client went away meanwhile; its on_close removes it
    }
  }

  std::list<tomodachi::Websocket> clients_;
};

TOMODACHI_SERVICE(WebsocketExample);
