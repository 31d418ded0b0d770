// Injected by the local Forge host before a Custom UI page's own scripts. It defines
// `globalThis.__bridge.callBridge(name, payload)`, the one function the real @forge/bridge calls,
// and forwards each call to the host (/__bridge/...) or to the shell (window.parent messages).
// The frame token in this script's URL is the page's only credential: the host maps it to the
// user, module and issue the shell opened the frame for.
(function () {
  'use strict';
  var script = document.currentScript;
  var scriptUrl = script ? new URL(script.src, location.href) : null;
  var frame = scriptUrl ? scriptUrl.searchParams.get('frame') : null;
  // A page drawn in a modal (opened with @forge/bridge Modal) may close it; other pages may not.
  var inModal = scriptUrl ? scriptUrl.searchParams.get('modal') === '1' : false;
  // A workflow rule's create or edit page (@forge/jira-bridge workflowRules.onConfigure).
  var configures = scriptUrl ? scriptUrl.searchParams.get('configure') === '1' : false;
  var shellOrigin = location.origin;

  function bridgeError(message, code) {
    var error = new Error(message);
    error.name = 'BridgeAPIError';
    if (code) error.code = code;
    return error;
  }

  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forge-frame': frame || '' },
      body: JSON.stringify(body === undefined ? {} : body),
      credentials: 'same-origin',
    }).then(function (response) {
      return response.text().then(function (text) {
        var json;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (e) {
          json = null;
        }
        if (!response.ok) {
          throw bridgeError((json && json.message) || 'The host answered ' + response.status, json && json.code);
        }
        return json;
      });
    });
  }

  function toShell(type, data) {
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ source: 'forge-host-bridge', frame: frame, type: type, data: data }, shellOrigin);
    }
  }

  var history = null;
  function memoryHistory() {
    var listeners = [];
    var entries = [{ pathname: '/', search: '', hash: '', state: null, key: 'initial' }];
    var index = 0;
    function parse(to, state) {
      var url = new URL(typeof to === 'string' ? to : (to.pathname || '/') + (to.search || '') + (to.hash || ''), 'http://frame');
      return {
        pathname: url.pathname,
        search: url.search,
        hash: url.hash,
        state: state === undefined ? null : state,
        key: Math.random().toString(36).slice(2),
      };
    }
    function notify(action) {
      var location = entries[index];
      api.location = location;
      api.action = action;
      listeners.slice().forEach(function (listener) {
        listener(location, action);
      });
    }
    var api = {
      length: 1,
      action: 'POP',
      location: entries[0],
      push: function (to, state) {
        entries = entries.slice(0, index + 1);
        entries.push(parse(to, state));
        index = entries.length - 1;
        api.length = entries.length;
        notify('PUSH');
      },
      replace: function (to, state) {
        entries[index] = parse(to, state);
        notify('REPLACE');
      },
      go: function (n) {
        var next = Math.min(Math.max(index + n, 0), entries.length - 1);
        if (next !== index) {
          index = next;
          notify('POP');
        }
      },
      goBack: function () {
        api.go(-1);
      },
      goForward: function () {
        api.go(1);
      },
      back: function () {
        api.go(-1);
      },
      forward: function () {
        api.go(1);
      },
      listen: function (listener) {
        listeners.push(listener);
        return function () {
          listeners = listeners.filter(function (l) {
            return l !== listener;
          });
        };
      },
      block: function () {
        return function () {};
      },
      createHref: function (to) {
        return typeof to === 'string' ? to : (to.pathname || '/') + (to.search || '') + (to.hash || '');
      },
    };
    return api;
  }

  var channelName = 'forge-host-events';
  var eventChannel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName) : null;
  var eventListeners = [];
  if (eventChannel) {
    eventChannel.onmessage = function (message) {
      var data = message.data || {};
      eventListeners.forEach(function (entry) {
        if (entry.event === data.event && (!data.publicOnly || entry.isPublic)) entry.callback(data.payload);
      });
    };
  }
  function listen(event, callback, isPublic) {
    var entry = { event: event, callback: callback, isPublic: isPublic };
    eventListeners.push(entry);
    return Promise.resolve({
      unsubscribe: function () {
        eventListeners = eventListeners.filter(function (e) {
          return e !== entry;
        });
      },
    });
  }

  function subscribe(payload) {
    var onEvent = payload.onEvent;
    var source = null;
    var closed = false;
    var subscription = {
      unsubscribe: function () {
        if (closed) return Promise.resolve();
        closed = true;
        if (source) source.close();
        return subscriptionId.then(function (id) {
          if (id)
            return post('/__bridge/realtime/unsubscribe', { subscriptionId: id }).then(
              function () {},
              function () {},
            );
        });
      },
    };
    var subscriptionId = post('/__bridge/realtime/subscribe', {
      channelName: payload.channelName,
      isGlobal: !!payload.isGlobal,
      options: payload.options || {},
    }).then(
      function (answer) {
        if (closed) return answer.subscriptionId;
        source = new EventSource('/__bridge/realtime/events/' + answer.subscriptionId);
        source.onmessage = function (message) {
          var data;
          try {
            data = JSON.parse(message.data);
          } catch (e) {
            return;
          }
          onEvent(data.payload);
        };
        source.onerror = function () {
          if (closed || source.readyState !== EventSource.CLOSED) return;
          // A frame being removed (the shell moving on) closes its streams too; that is the page
          // going away, not an error. Its timers never run, so only a live page hears of it.
          setTimeout(function () {
            onEvent(undefined, bridgeError('The realtime connection closed'));
          }, 0);
        };
        return answer.subscriptionId;
      },
      function (error) {
        // A refused subscription (bad or expired token, no context) is reported to the callback.
        onEvent(undefined, error);
        return null;
      },
    );
    return subscriptionId.then(function () {
      return subscription;
    });
  }

  // Modals this page opened: id -> its onClose. The shell draws each over the whole page and
  // says when it closed, with the payload its page closed it with.
  var modalClosers = {};
  var modalSeq = 0;
  // The rule page's onConfigure callback. The workflow editor's Add / Update button asks for the
  // configuration; the callback answers JSON text, or undefined to keep the dialog open.
  var ruleCallback = null;
  function setRuleCallback(payload) {
    var fn = payload && payload.data && payload.data.onConfigure;
    if (!configures) return Promise.reject(bridgeError("Only a workflow rule's create or edit page can register onConfigure"));
    if (typeof fn !== 'function') return Promise.reject(bridgeError('onConfigure needs a function'));
    ruleCallback = fn;
    toShell('workflowRuleConfigurable', {});
    return Promise.resolve(true);
  }
  function configureRule(requestId) {
    var answer = function (data) {
      data.requestId = requestId;
      toShell('workflowRuleConfiguration', data);
    };
    if (!ruleCallback) return answer({ error: 'The page registered no onConfigure callback' });
    Promise.resolve()
      .then(function () {
        return ruleCallback();
      })
      .then(
        function (value) {
          if (value === undefined) answer({ blocked: true });
          else if (typeof value !== 'string') answer({ error: 'onConfigure answered a ' + typeof value + ', not the configuration as JSON text' });
          else answer({ configuration: value });
        },
        function (error) {
          answer({ error: 'onConfigure failed: ' + ((error && error.message) || String(error)) });
        },
      );
  }
  window.addEventListener('message', function (event) {
    var message = event.data;
    if (event.source !== window.parent || event.origin !== shellOrigin) return;
    if (message && message.source === 'forge-host-shell' && message.type === 'configureWorkflowRule' && configures) {
      configureRule(message.requestId);
      return;
    }
    if (!message || message.source !== 'forge-host-shell' || message.type !== 'modalClosed') return;
    var onClose = modalClosers[message.modalId];
    delete modalClosers[message.modalId];
    if (typeof onClose === 'function') onClose(message.payload);
  });
  function openModal(p) {
    if (inModal) return Promise.reject(bridgeError('A modal cannot open another modal'));
    var id = 'modal-' + ++modalSeq;
    return post('/__bridge/modal', { resource: p.resource || null, context: p.context === undefined ? {} : p.context }).then(function (answer) {
      modalClosers[id] = p.onClose;
      toShell('openModal', {
        modalId: id,
        src: answer.src,
        size: p.size,
        title: p.title || '',
        closeOnEscape: p.closeOnEscape !== false,
        closeOnOverlayClick: p.closeOnOverlayClick !== false,
      });
      return true;
    });
  }
  function closeThisModal(payload) {
    if (!inModal) return Promise.resolve(false);
    toShell('closeModal', { payload: payload });
    return Promise.resolve(true);
  }
  if (inModal) {
    // Escape closes the modal, as the product's modal does, unless the page handled it.
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && !event.defaultPrevented) toShell('modalEscape', {});
    });
  }

  var flags = {};
  var handlers = {
    invoke: function (p) {
      return post('/__bridge/invoke', { functionKey: p.functionKey, payload: p.payload, metadata: p.metadata }).then(function (a) {
        return a.result;
      });
    },
    getContext: function () {
      return post('/__bridge/context').then(function (a) {
        return a.context;
      });
    },
    subscribeRealtimeChannel: subscribe,
    publishRealtimeChannel: function (p) {
      return post('/__bridge/realtime/publish', { channelName: p.channelName, eventPayload: p.eventPayload, options: p.options || {}, isGlobal: !!p.isGlobal });
    },
    fetchProduct: function (p) {
      return post('/__bridge/fetch-product', p);
    },
    getUrl: function (location) {
      return post('/__bridge/url', { location: location }).then(function (a) {
        return a.url;
      });
    },
    navigate: function (p) {
      var target = p.url;
      if (target === undefined) {
        target = {};
        Object.keys(p).forEach(function (k) {
          if (k !== 'type') target[k] = p[k];
        });
      }
      return post('/__bridge/url', { location: target }).then(function (a) {
        toShell('navigate', { url: a.url, newTab: p.type === 'new-tab' });
      });
    },
    reload: function () {
      toShell('reload', {});
      return Promise.resolve();
    },
    showFlag: function (options) {
      flags[options.id] = true;
      toShell('showFlag', options);
      return Promise.resolve();
    },
    closeFlag: function (p) {
      delete flags[p.id];
      toShell('closeFlag', { id: p.id });
      return Promise.resolve();
    },
    refresh: function () {
      toShell('refresh', {});
      return Promise.resolve(true);
    },
    // Only a page drawn in a modal may close (or submit) it; issue panels, admin pages and portal
    // panels are refused, as by the product.
    close: closeThisModal,
    submit: closeThisModal,
    open: function () {
      return Promise.resolve(false);
    },
    onClose: function () {
      return Promise.resolve(false);
    },
    openModal: openModal,
    createHistory: function () {
      if (!history) history = memoryHistory();
      return Promise.resolve(history);
    },
    changeWindowTitle: function (title) {
      toShell('title', { title: String(title) });
      return Promise.resolve();
    },
    enableTheming: function () {
      return Promise.resolve();
    },
    emitReadyEvent: function () {
      return Promise.resolve();
    },
    getFrameId: function () {
      return Promise.resolve(frame);
    },
    emit: function (p) {
      if (eventChannel) eventChannel.postMessage({ event: p.event, payload: p.payload, publicOnly: false });
      return Promise.resolve();
    },
    emitPublic: function (p) {
      if (eventChannel) eventChannel.postMessage({ event: p.event, payload: p.payload, publicOnly: true });
      return Promise.resolve();
    },
    on: function (p) {
      return listen(p.event, p.callback, false);
    },
    onPublic: function (p) {
      return listen(p.event, p.callback, true);
    },
    setWorkflowRuleConfigurationCallback: setRuleCallback,
    emitFrontendCustomMetric: function () {
      return Promise.resolve();
    },
    trackObjectStoreAction: function () {
      return Promise.resolve();
    },
  };

  globalThis.__bridge = {
    callBridge: function (name, payload) {
      var handler = handlers[name];
      if (!handler) return Promise.reject(bridgeError('The local Forge host does not implement the bridge call "' + name + '"'));
      try {
        return Promise.resolve(handler(payload));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
})();
